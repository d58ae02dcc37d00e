"""Layer 3: render, migrate, serve with two uvicorn workers on PostgreSQL + Redis, and use it.

Two worker processes share nothing but the database and Redis, so every step that must
hold across processes (revocation, rate limits, cancellation) is exercised for real:
requests land on either worker.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Bake
from tests.databases import server_with_pgvector
from tests.processes import clean_env, free_port, run, serving, wait_until

# One worker serves the project the tests share.
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.xdist_group("e2e"),
]

PASSWORD = "e2e-password-42"
SECRET = "e2e-secret-key-that-is-long-enough-for-production"
E2E_REDIS_DB = 13
# Longer than the sign-in limit's one-minute window.
SIGN_IN_SECONDS = 75.0


async def _admin(url: str, statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="module")
def server(baked: Bake, service_urls: dict[str, str]) -> Iterator[dict[str, Any]]:
    """The rendered PostgreSQL + Redis project, migrated and served by two workers."""
    project = baked("postgresql_redis")
    with server_with_pgvector(project, service_urls["TEST_DATABASE_URL"]) as admin_url:
        yield from _serve(project, admin_url, service_urls)


def _serve(project: Path, admin_url: str, service_urls: dict[str, str]) -> Iterator[dict[str, Any]]:
    """Create a database on the admin URL's server, migrate it and serve the project."""
    from sqlalchemy import make_url

    name = f"e2e_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(admin_url, f'CREATE DATABASE "{name}"'))
    database_url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    # A database index of its own, emptied first, so counters from earlier runs do not count.
    redis_url = service_urls["TEST_REDIS_URL"].rsplit("/", 1)[0] + f"/{E2E_REDIS_DB}"
    _flush_redis(redis_url)
    env = clean_env(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SECRET_KEY=SECRET,
        ENVIRONMENT="production",
        AUTO_MIGRATE="false",
        LOG_JSON="true",
        AUTH_RATE_LIMIT="5/minute",
        # Rare pings, so a stream that never ends fails on the client's read timeout.
        SSE_PING_SECONDS="600",
        # One user sends the burst test's runs: the workers' limits decide it, not theirs.
        MAX_CONCURRENT_RUNS_PER_USER="1000",
        USER_RUN_RATE_LIMIT="10000/minute",
        # Small pools: the generated suites share the server's 100 connections meanwhile.
        DATABASE_POOL_SIZE="5",
        DATABASE_MAX_OVERFLOW="5",
    )
    migrated = run([sys.executable, "-m", "alembic", "upgrade", "head"], project, env=env)
    assert migrated.ok, migrated.tail()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    uvicorn = [sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app"]
    uvicorn += ["--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
    try:
        with serving(uvicorn, project, env=env, url=f"{base}/health/ready", timeout=60):
            yield {"base": base, "project": project}
    finally:
        asyncio.run(_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


def _wait_for_running(http: httpx.Client, headers: dict[str, str]) -> str:
    running: list[dict[str, Any]] = []

    def started() -> bool:
        listing = http.get("/api/v1/executions", params={"status": "running"}, headers=headers)
        running[:] = listing.json()["items"]
        return bool(running)

    wait_until(started, timeout=10, message="no execution started running")
    return str(running[0]["id"])


def _events(lines: Iterator[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    name = "message"
    for line in lines:
        if line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            yield name, json.loads(line[5:].strip())
            name = "message"


def _sign_in(http: httpx.Client, email: str) -> dict[str, Any]:
    """Sign in as a client would: a 429 (the tests share one address's limit) waits it out."""
    deadline = time.monotonic() + SIGN_IN_SECONDS
    while True:
        answer = http.post("/api/v1/auth/login", data={"username": email, "password": PASSWORD})
        if answer.status_code != 429 or time.monotonic() > deadline:
            assert answer.status_code == 200, answer.text
            tokens: dict[str, Any] = answer.json()
            return tokens
        time.sleep(min(float(answer.headers.get("retry-after", "1")), 5.0))


def test_a_user_signs_up_runs_an_agent_streams_and_cancels(
    server: dict[str, Any],
) -> None:
    with httpx.Client(base_url=server["base"], timeout=30) as http:
        email = f"e2e-{uuid.uuid4().hex[:8]}@example.com"
        assert (
            http.post(
                "/api/v1/auth/register", json={"email": email, "password": PASSWORD}
            ).status_code
            == 201
        )
        tokens = _sign_in(http, email)
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}

        agent = http.post(
            "/api/v1/agents",
            json={
                "name": "calc",
                "provider": "scripted",
                "model": "scripted",
                "tools": ["calculator", "current_time"],
            },
            headers=headers,
        )
        assert agent.status_code == 201, agent.text
        agent_id = agent.json()["id"]

        result = http.post(
            f"/api/v1/agents/{agent_id}/execute",
            json={"message": '!tool calculator {"expression": "6*7"}'},
            headers=headers,
        ).json()
        assert result["status"] == "completed"
        assert "42" in result["output"]
        history = http.get(
            f"/api/v1/conversations/{result['conversation_id']}/messages",
            headers=headers,
        ).json()["items"]
        assert [m["role"] for m in history] == [
            "user",
            "assistant",
            "tool",
            "assistant",
        ]

        with http.stream(
            "POST",
            f"/api/v1/agents/{agent_id}/execute",
            json={"message": "stream this please", "stream": True},
            headers=headers,
        ) as response:
            streamed = list(_events(response.iter_lines()))
        names = [name for name, _ in streamed]
        assert names[0] == "execution.started"
        assert names[-1] == "execution.completed"
        text = "".join(d["text"] for n, d in streamed if n == "message.delta")
        assert text == "[scripted] stream this please"

        # Cancel several runs: with two workers, some cancels land on the other process.
        with httpx.Client(base_url=server["base"], timeout=30) as other:
            for _ in range(4):
                with http.stream(
                    "POST",
                    f"/api/v1/agents/{agent_id}/execute",
                    json={"message": "!sleep 20", "stream": True},
                    headers=headers,
                ) as response:
                    events = _events(response.iter_lines())
                    started_name, started = next(events)
                    assert started_name == "execution.started"
                    cancelled = other.post(
                        f"/api/v1/executions/{started['execution_id']}/cancel",
                        headers=headers,
                    )
                    assert cancelled.status_code == 202, cancelled.text
                    final_name, final = list(events)[-1]
                assert final_name == "execution.failed"
                assert final["status"] == "cancelled"
                stored = other.get(
                    f"/api/v1/executions/{started['execution_id']}", headers=headers
                ).json()
                assert stored["status"] == "cancelled"

        # Follow a run from another connection (maybe another worker), live via Redis.
        with (
            ThreadPoolExecutor(1) as pool,
            httpx.Client(base_url=server["base"], timeout=30) as other,
        ):
            running = pool.submit(
                http.post,
                f"/api/v1/agents/{agent_id}/execute",
                json={"message": "!sleep 1\nwatch me"},
                headers=headers,
            )
            execution_id = _wait_for_running(other, headers)
            with other.stream(
                "GET", f"/api/v1/executions/{execution_id}/events", headers=headers
            ) as response:
                followed = list(_events(response.iter_lines()))
            assert running.result().json()["status"] == "completed"
        assert followed[-1][0] == "execution.completed"
        assert followed[-1][1]["output"] == "[scripted] watch me"

        assert http.post("/api/v1/auth/logout", headers=headers).status_code == 204
        for _ in range(4):
            assert http.get("/api/v1/users/me", headers=headers).status_code == 401
        # Logout ends the whole sign-in: its refresh token works on no worker either.
        reuse = {"refresh_token": tokens["refresh_token"]}
        for _ in range(4):
            assert http.post("/api/v1/auth/refresh", json=reuse).status_code == 401


BURST = 40


async def _burst(base: str, headers: dict[str, str], agent_id: str) -> list[httpx.Response]:
    """`BURST` overlapping runs sent at once, so both workers hold many in flight."""
    limits = httpx.Limits(max_connections=BURST, max_keepalive_connections=BURST)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
        return list(
            await asyncio.gather(
                *(
                    http.post(
                        f"/api/v1/agents/{agent_id}/execute",
                        json={"message": f"!sleep 0.5\nburst {n}"},
                        headers=headers,
                    )
                    for n in range(BURST)
                )
            )
        )


def test_a_burst_of_runs_is_answered_with_nothing_stuck_or_lost(server: dict[str, Any]) -> None:
    """Each run completes, storing its message and the reply, or is shed before storing any."""
    with httpx.Client(base_url=server["base"], timeout=30) as http:
        email = f"burst-{uuid.uuid4().hex[:8]}@example.com"
        registered = http.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
        assert registered.status_code == 201, registered.text
        headers = {"Authorization": f"Bearer {_sign_in(http, email)['access_token']}"}
        agent = http.post(
            "/api/v1/agents",
            json={"name": "burst", "provider": "scripted", "model": "scripted"},
            headers=headers,
        )
        assert agent.status_code == 201, agent.text

        answers = asyncio.run(_burst(server["base"], headers, agent.json()["id"]))

        codes = sorted(answer.status_code for answer in answers)
        assert set(codes) <= {200, 429, 503}, codes
        shed = [answer for answer in answers if answer.status_code != 200]
        assert all(answer.headers.get("retry-after") for answer in shed)
        completed = [answer.json() for answer in answers if answer.status_code == 200]
        assert completed, codes
        for body in completed:
            assert body["status"] == "completed", body
            messages = http.get(
                f"/api/v1/conversations/{body['conversation_id']}/messages", headers=headers
            ).json()["items"]
            assert [(m["role"], m["content"]) for m in messages] == [
                ("user", body["input"]),
                ("assistant", body["output"]),
            ]
        stored = http.get("/api/v1/executions", params={"limit": 100}, headers=headers).json()
        assert stored["total"] == len(completed)
        assert {execution["status"] for execution in stored["items"]} == {"completed"}


def test_rate_limits_hold_across_workers(
    server: dict[str, Any], service_urls: dict[str, str]
) -> None:
    try:
        with httpx.Client(base_url=server["base"], timeout=30) as http:
            codes = [
                http.post(
                    "/api/v1/auth/login",
                    data={"username": "nobody@example.com", "password": "x"},
                ).status_code
                for _ in range(8)
            ]
    finally:
        # The spent limit would refuse the next test's sign-in, whatever order they run in.
        _flush_redis(service_urls["TEST_REDIS_URL"].rsplit("/", 1)[0] + f"/{E2E_REDIS_DB}")
    # Earlier logins in this module count too; a per-process limit would allow 10 here.
    first_refusal = codes.index(429)
    assert codes[:first_refusal] == [401] * first_refusal
    assert set(codes[first_refusal:]) == {429}
    assert first_refusal <= 5


def test_readiness_reports_the_real_services(server: dict[str, Any]) -> None:
    body = httpx.get(f"{server['base']}/health/ready", timeout=5).json()
    assert body["status"] == "ok"
    assert body["checks"] == {"database": True, "store": True}
    assert "scripted" in body["providers"]
