"""`/metrics` after real requests and runs: the series exist and count what happened."""

from __future__ import annotations

import uuid

import httpx
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from tests.support.factories import AppFactory, SignedInUser, client_for
from tests.support.runs import create_agent, execute


def _value(exposition: str, name: str, **labels: str) -> float:
    """One sample's value, or 0 when the series has not been seen yet."""
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


async def _scrape(client: httpx.AsyncClient, headers: dict[str, str] | None = None) -> str:
    response = await client.get("/metrics", headers=headers or {})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_requests_are_counted_by_route_template_and_status(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    route = "/api/v1/agents/{agent_id}"
    before = await _scrape(client)

    for _ in range(2):
        missing = await client.get(f"/api/v1/agents/{uuid.uuid4()}", headers=me.headers)
        assert missing.status_code == 404
    await client.get("/no/such/page")
    after = await _scrape(client)

    labels = {"method": "GET", "route": route, "status": "404"}
    assert (
        _value(after, "http_requests_total", **labels)
        - _value(before, "http_requests_total", **labels)
        == 2
    )
    assert _value(after, "http_request_duration_seconds_count", method="GET", route=route) >= 2
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    assert _value(after, "http_requests_total", **unmatched) > _value(
        before, "http_requests_total", **unmatched
    )
    assert f"/api/v1/agents/{uuid.UUID(int=0)}" not in after


async def test_a_run_counts_its_outcome_model_call_tokens_and_tool_call(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    agent = await create_agent(client, me.headers, tools=["calculator"])
    run = {"agent": agent["id"], "provider": "scripted", "model": agent["model"]}
    before = await _scrape(client)

    response = await execute(
        client, me.headers, agent["id"], '!tool calculator {"expression": "6 * 7"}'
    )
    after = await _scrape(client)

    assert response.status_code == 200, response.text
    completed = {**run, "outcome": "completed"}
    assert (
        _value(after, "agent_runs_total", **completed)
        == _value(before, "agent_runs_total", **completed) + 1
    )
    calls = {"provider": "scripted", "model": agent["model"], "outcome": "ok"}
    assert (
        _value(after, "provider_call_duration_seconds_count", **calls)
        - _value(before, "provider_call_duration_seconds_count", **calls)
        == 2
    )  # the call that asks for the tool, then the answer
    spent = {"provider": "scripted", "model": agent["model"], "direction": "input"}
    assert _value(after, "provider_tokens_total", **spent) > _value(
        before, "provider_tokens_total", **spent
    )
    tool = {"tool": "calculator", "outcome": "ok"}
    assert (
        _value(after, "tool_call_duration_seconds_count", **tool)
        == _value(before, "tool_call_duration_seconds_count", **tool) + 1
    )
    assert _value(after, "agent_runs_in_flight") == 0


async def test_a_metrics_token_is_required_when_set(make_app: AppFactory) -> None:
    app = await make_app(metrics_token=SecretStr("scrape-secret"))
    async with client_for(app) as client:
        anonymous = await client.get("/metrics")
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        scraped = await _scrape(client, {"Authorization": "Bearer scrape-secret"})

    assert anonymous.status_code == wrong.status_code == 401
    assert "http_requests_total" in scraped


async def test_metrics_can_be_switched_off(make_app: AppFactory) -> None:
    app = await make_app(metrics_enabled=False)
    async with client_for(app) as client:
        response = await client.get("/metrics")

    assert response.status_code == 404
