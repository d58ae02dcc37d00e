"""Layer 3: render, migrate, serve on PostgreSQL + Redis as production does, and use it.

Two uvicorn workers serve the API (`RUN_ROLE=api`) and a separate run worker
(`python -m app.worker`) executes the runs they queue. The processes share nothing but
the database and Redis, so every step that must hold across processes (revocation, rate
limits, cancellation, following a run, resuming one whose worker was killed) is
exercised for real.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Bake
from tests.databases import server_with_pgvector
from tests.processes import Server, clean_env, free_port, run, serving, start_server

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
# How soon a run whose worker stopped renewing its lease is resumed by another.
LEASE_SECONDS = 5


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
        RUNS_DATABASE_POOL_SIZE="4",
        RUN_LEASE_SECONDS=str(LEASE_SECONDS),
        SWEEP_INTERVAL_SECONDS="0.5",
    )
    migrated = run([sys.executable, "-m", "alembic", "upgrade", "head"], project, env=env)
    assert migrated.ok, migrated.tail()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    uvicorn = [sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app"]
    uvicorn += ["--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
    workers: list[Server] = []

    def start_worker() -> Server:
        """One more `python -m app.worker` on the same database and Redis."""
        worker_port = free_port()
        worker = start_server(
            [sys.executable, "-m", "app.worker", "--port", str(worker_port)],
            project,
            env=env,
            url=f"http://127.0.0.1:{worker_port}/health/ready",
            timeout=60,
        )
        workers.append(worker)
        return worker

    try:
        with ExitStack() as stack:
            api_env = {**env, "RUN_ROLE": "api"}
            stack.enter_context(
                serving(uvicorn, project, env=api_env, url=f"{base}/health/ready", timeout=60)
            )
            stack.callback(_stop_all, workers)
            start_worker()
            yield {"base": base, "project": project, "workers": workers, "start": start_worker}
    finally:
        asyncio.run(_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _stop_all(servers: list[Server]) -> None:
    """Stop every server still in the list (a killed one has been taken out)."""
    for server in servers:
        server.stop()


def _flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


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

        # Start a run in the background and follow it from another connection (maybe the
        # other API process): its events come from the worker through Redis.
        accepted = http.post(
            f"/api/v1/agents/{agent_id}/execute",
            json={"message": "!sleep 1\nwatch me", "background": True},
            headers=headers,
        )
        assert accepted.status_code == 202, accepted.text
        with (
            httpx.Client(base_url=server["base"], timeout=30) as other,
            other.stream(
                "GET", f"{accepted.headers['location']}/events", headers=headers
            ) as response,
        ):
            followed = list(_events(response.iter_lines()))
        assert followed[0][0] == "execution.started"
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


def test_a_run_whose_worker_is_killed_resumes_on_another_and_its_stream_goes_on(
    server: dict[str, Any],
) -> None:
    """`kill -9` the worker mid-run: a new worker resumes it after the tool call it made."""
    with httpx.Client(base_url=server["base"], timeout=120) as http:
        email = f"crash-{uuid.uuid4().hex[:8]}@example.com"
        registered = http.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
        assert registered.status_code == 201, registered.text
        headers = {"Authorization": f"Bearer {_sign_in(http, email)['access_token']}"}
        agent = http.post(
            "/api/v1/agents",
            json={
                "name": "durable",
                "provider": "scripted",
                "model": "scripted",
                "tools": ["calculator"],
            },
            headers=headers,
        ).json()
        # Each model call pauses first: the worker dies during the second one.
        message = '!sleep 2\n!tool calculator {"expression": "6*7"}'
        with http.stream(
            "POST",
            f"/api/v1/agents/{agent['id']}/execute",
            json={"message": message, "stream": True},
            headers=headers,
        ) as response:
            events = _events(response.iter_lines())
            before = []
            for name, data in events:
                before.append((name, data))
                if name == "tool.result":
                    break
            [killed] = server["workers"]
            os.killpg(killed.process.pid, signal.SIGKILL)
            killed.process.wait(timeout=10)
            server["workers"].remove(killed)
            server["start"]()
            after = list(events)

    names = [name for name, _ in before + after]
    assert names.count("tool.call") == names.count("tool.result") == 1, names
    assert after[-1][0] == "execution.completed", after[-1]
    assert "42" in after[-1][1]["output"]
    execution_id = before[0][1]["execution_id"]
    with httpx.Client(base_url=server["base"], timeout=30) as http:
        execution = http.get(f"/api/v1/executions/{execution_id}", headers=headers).json()
        history = http.get(
            f"/api/v1/conversations/{execution['conversation_id']}/messages", headers=headers
        ).json()["items"]
    assert execution["status"] == "completed"
    assert [m["role"] for m in history] == ["user", "assistant", "tool", "assistant"]


# The project's own example pipeline, so the test runs what `make seed` ships.
PIPELINE_AGENTS = """
import json
from app.ai.workflows.examples import SOFTWARE_DELIVERY as example
print(json.dumps([{"key": a.key, "name": a.name, "system_prompt": a.system_prompt}
                  for a in example.agents]))
"""
PIPELINE_STEPS = """
import json, sys, uuid
from app.ai.workflows.examples import SOFTWARE_DELIVERY as example
ids = {key: uuid.UUID(value) for key, value in json.loads(sys.argv[1]).items()}
print(json.dumps({"name": example.name, "description": example.description,
                  "steps": example.steps(ids)}))
"""


def _project_json(project: Path, script: str, *args: str) -> Any:
    """What a snippet run with the project's code prints, as JSON."""
    outcome = run([sys.executable, "-c", script, *args], project, env=clean_env(), timeout=60)
    assert outcome.ok, outcome.tail()
    return json.loads(outcome.output.strip().splitlines()[-1])


def _wait_for_approval(
    http: httpx.Client, run_url: str, headers: dict[str, str], step: str
) -> None:
    """Follow the run's events until `step` asks for a decision."""
    with http.stream("GET", f"{run_url}/events", headers=headers) as response:
        for name, data in _events(response.iter_lines()):
            assert name not in ("run.failed", "run.completed"), (name, data)
            if name == "approval.requested" and data["step"] == step:
                return
    raise AssertionError(f"the stream ended before {step} asked for a decision")


def test_the_delivery_pipeline_runs_on_the_worker_through_both_approvals(
    server: dict[str, Any],
) -> None:
    """The shipped pipeline, started and approved through the API processes, run by the worker."""
    project = server["project"]
    with httpx.Client(base_url=server["base"], timeout=60) as http:
        email = f"pipeline-{uuid.uuid4().hex[:8]}@example.com"
        registered = http.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
        assert registered.status_code == 201, registered.text
        headers = {"Authorization": f"Bearer {_sign_in(http, email)['access_token']}"}
        ids = {}
        for spec in _project_json(project, PIPELINE_AGENTS):
            created = http.post(
                "/api/v1/agents",
                json={
                    "name": spec["name"],
                    "system_prompt": spec["system_prompt"],
                    "provider": "scripted",
                    "model": "scripted",
                },
                headers=headers,
            )
            assert created.status_code == 201, created.text
            ids[spec["key"]] = created.json()["id"]
        definition = _project_json(project, PIPELINE_STEPS, json.dumps(ids))
        workflow = http.post("/api/v1/workflows", json=definition, headers=headers)
        assert workflow.status_code == 201, workflow.text

        started = http.post(
            f"/api/v1/workflows/{workflow.json()['id']}/runs",
            json={"input": "A to-do list with due dates."},
            headers=headers,
        )
        assert started.status_code == 202, started.text
        run_url = f"/api/v1/workflow-runs/{started.json()['id']}"
        _wait_for_approval(http, run_url, headers, "review_stories")
        stories = "Story: as a user I add a to-do with a due date."
        decided = http.post(
            f"{run_url}/approvals/review_stories",
            json={"approve": True, "edited_output": stories},
            headers=headers,
        )
        assert decided.status_code == 200, decided.text
        _wait_for_approval(http, run_url, headers, "review_release")
        released = http.post(
            f"{run_url}/approvals/review_release", json={"approve": True}, headers=headers
        )
        assert released.status_code == 200, released.text

        with http.stream("GET", f"{run_url}/events", headers=headers) as response:
            events = list(_events(response.iter_lines()))
        final = http.get(run_url, headers=headers).json()

    assert events[-1][0] == "run.completed", events[-1]
    assert final["status"] == "completed", final
    steps = {record["step_id"]: record for record in final["steps"]}
    assert list(steps) == [
        "analyst",
        "review_stories",
        "architect",
        "developer",
        "tester",
        "check_tests",
        "review_release",
    ]
    # The reviewer's edit, not the analyst's draft, is what the architect was given.
    assert stories in steps["architect"]["input"]
    for step in ("analyst", "architect", "developer", "tester"):
        assert steps[step]["status"] == "completed", steps[step]
        assert steps[step]["execution_id"], steps[step]
