"""Liveness and readiness probes: each component's state, alone or all together."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from app.core.config import Settings
from tests.support.factories import AppFactory, UserFactory, client_for
{%- if cookiecutter.use_openai %}
from tests.support.fake_provider import FakeProvider
from tests.support.live_server import free_port
{%- endif %}
from tests.support.waiting import wait_for


async def _component(http: httpx.AsyncClient, name: str) -> dict[str, Any]:
    response = await http.get(f"/health/ready/{name}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_liveness_answers_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readiness_reports_every_component(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    response = await client.get("/health/ready")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    # The fields older clients read keep their meaning.
    assert body["checks"] == {"database": True, "store": True}
    assert "scripted" in body["providers"]
    components = body["components"]
    expected = ["database"]
{%- if cookiecutter.use_redis %}
    if settings.redis_url:
        expected.append("redis")
{%- endif %}
    assert list(components) == [*expected, *body["providers"], "runs"]
    for name, component in components.items():
        assert component["name"] == name
        assert component["status"] == "ok", component
    database = components["database"]
    assert (database["kind"], database["required"]) == ("database", True)
    assert 0 <= database["latency_ms"] < 3000
    assert database["checked_at"] is not None
    runs = components["runs"]
    assert (runs["kind"], runs["required"]) == ("runs", False)
    assert runs["counts"] == {"in_flight": 0, "limit": settings.max_concurrent_runs}
    scripted = components["scripted"]
    assert (scripted["kind"], scripted["required"]) == ("provider", False)
    assert scripted["latency_ms"] is None  # it runs in this process: nothing to reach
{%- if cookiecutter.use_redis %}
    if settings.redis_url:
        assert (components["redis"]["kind"], components["redis"]["required"]) == ("redis", True)
{%- endif %}


async def test_one_component_is_checked_and_reported_alone(client: httpx.AsyncClient) -> None:
    ready = (await client.get("/health/ready")).json()
    for name in ready["components"]:
        component = await _component(client, name)
        assert component["name"] == name
        assert component["status"] == "ok"


async def test_an_unknown_component_is_a_404_that_lists_the_known_ones(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/health/ready/postgres")

    assert response.status_code == 404
    detail = response.json()["detail"]
    assert "No component named 'postgres'" in detail
    assert "database" in detail
    assert "runs" in detail
    assert "scripted" in detail


async def test_every_response_carries_a_request_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/health", headers={"X-Request-ID": "abc123"})
    assert response.headers["x-request-id"] == "abc123"
    generated = await client.get("/health")
    assert len(generated.headers["x-request-id"]) == 32


async def test_probes_need_no_credentials(client: httpx.AsyncClient) -> None:
    for path in ("/health", "/health/ready", "/health/ready/database"):
        response = await client.get(path, headers={"Authorization": "Bearer junk"})
        assert response.status_code == 200


async def test_runs_at_their_limit_are_degraded_while_the_service_stays_ready(
    make_app: AppFactory,
) -> None:
    application = await make_app(max_concurrent_runs=1)
    async with client_for(application) as http:
        me = await UserFactory(http, application.state.database).signed_in()
        agent = await http.post(
            "/api/v1/agents",
            json={"name": "slow", "provider": "scripted", "model": "scripted"},
            headers=me.headers,
        )
        execute = f"/api/v1/agents/{agent.json()['id']}/execute"
        running = asyncio.create_task(
            http.post(execute, json={"message": "!sleep 2\ndone"}, headers=me.headers)
        )

        async def at_the_limit() -> bool:
            return bool((await _component(http, "runs"))["status"] == "degraded")

        await wait_for(at_the_limit, message="the run never counted as in flight")
        ready = await http.get("/health/ready")
        finished = await running
        after = await _component(http, "runs")

    assert ready.status_code == 200
    runs = ready.json()["components"]["runs"]
    assert runs["counts"] == {"in_flight": 1, "limit": 1}
    assert runs["detail"] == "1 of at most 1 runs in flight in this process"
    assert finished.status_code == 200, finished.text
    assert (after["status"], after["counts"]["in_flight"]) == ("ok", 0)
{%- if cookiecutter.use_openai %}


async def test_a_provider_whose_api_does_not_answer_is_degraded_not_fatal(
    make_app: AppFactory,
) -> None:
    application = await make_app(openai_base_url=f"http://127.0.0.1:{free_port()}/v1")
    async with client_for(application) as http:
        first = await _component(http, "openai")

        async def degraded() -> bool:
            return bool((await _component(http, "openai"))["status"] == "degraded")

        await wait_for(degraded, message="the failed check never showed")
        openai = await _component(http, "openai")
        ready = await http.get("/health/ready")

    # The probe never waits on the vendor: the first one reads configuration only.
    assert (first["status"], first["checked_at"]) == ("ok", None)
    assert "ConnectError" in openai["detail"]
    assert openai["latency_ms"] is not None
    assert openai["checked_at"] is not None
    assert openai["required"] is False
    assert ready.status_code == 200
    assert ready.json()["status"] == "ok"
    assert ready.json()["components"]["openai"]["status"] == "degraded"


async def test_a_provider_whose_api_answers_is_ok_with_the_check_latency(
    make_app: AppFactory, fake_provider: FakeProvider
) -> None:
    application = await make_app(openai_base_url=fake_provider.url)
    async with client_for(application) as http:

        async def checked() -> bool:
            return (await _component(http, "openai"))["checked_at"] is not None

        await wait_for(checked, message="the provider was never checked")
        openai = await _component(http, "openai")

    assert openai["status"] == "ok"
    assert openai["detail"] == "configured; its API answered the last check"
    assert openai["latency_ms"] > 0


async def test_provider_checks_can_be_turned_off(make_app: AppFactory) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1"
    application = await make_app(openai_base_url=dead, provider_check_interval_seconds=0)
    async with client_for(application) as http:
        openai = await _component(http, "openai")

    assert (openai["status"], openai["checked_at"]) == ("ok", None)
    assert openai["detail"] == "configured; checks are off (PROVIDER_CHECK_INTERVAL_SECONDS=0)"
{%- endif %}
