"""A process killed mid-run (`kill -9`): a worker started after it resumes the run.

The run has called a tool and waits on its second model call when the whole process
group is killed. A worker on the same database (and Redis, when used) resumes it from
its last completed step: the first model call and the tool call are not repeated, and
the conversation ends with each message exactly once.
"""
{%- if cookiecutter.use_openai %}

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.core.config import Settings
from app.db.session import Database
from app.models import Execution, Message
from tests.support.databases import temporary_database
from tests.support.fake_provider import FakeProvider
from tests.support.fake_replies import Hang, Text, ToolCalls
from tests.support.served import served, service_env

pytestmark = pytest.mark.slow

ANSWER = "6 times 7 is 42."
LEASE_SECONDS = 2
RESUME_SECONDS = 45.0
{%- if cookiecutter.use_redis %}
REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
SERVED_REDIS_INDEX = 15
{%- endif %}


@pytest.fixture(params=["sqlite", "postgresql"])
def service_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The database{% if cookiecutter.use_redis %} (and, on PostgreSQL, the Redis){% endif %} the killed process and the worker share."""
    if request.param == "sqlite":
        yield {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'crash.db'}"}
        return
{%- if cookiecutter.use_redis %}
    if not os.environ.get("TEST_DATABASE_URL") or not REDIS_URL:
        pytest.skip("set TEST_DATABASE_URL and TEST_REDIS_URL to crash on PostgreSQL + Redis")
    admin_url: str = request.getfixturevalue("postgres_admin_url")
    with temporary_database(admin_url) as url:
        yield {
            "DATABASE_URL": url,
            "REDIS_URL": f"{REDIS_URL.rsplit('/', 1)[0]}/{SERVED_REDIS_INDEX}",
        }
{%- else %}
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("set TEST_DATABASE_URL to crash on PostgreSQL")
    admin_url: str = request.getfixturevalue("postgres_admin_url")
    with temporary_database(admin_url) as url:
        yield {"DATABASE_URL": url}
{%- endif %}


def _events_until(response: httpx.Response, name: str) -> list[tuple[str, Any]]:
    """The stream's events up to and including the first called `name`."""
    seen: list[tuple[str, Any]] = []
    event = ""
    for line in response.iter_lines():
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            seen.append((event, json.loads(line[5:])))
            if event == name:
                return seen
    raise AssertionError(f"the stream ended before {name}: {seen}")


def _start_run(url: str) -> tuple[str, str]:
    """Start a streamed run; its execution and conversation ids once its tool has answered."""
    with httpx.Client(base_url=url, timeout=30) as http:
        email = f"crash-{uuid.uuid4().hex[:12]}@example.com"
        password = "correct-horse-42"
        http.post("/api/v1/auth/register", json={"email": email, "password": password})
        login = http.post("/api/v1/auth/login", data={"username": email, "password": password})
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        agent = http.post(
            "/api/v1/agents",
            json={
                "name": "durable",
                "provider": "openai",
                "model": "gpt-4o-mini",
                "tools": ["calculator"],
            },
            headers=headers,
        )
        assert agent.status_code == 201, agent.text
        body = {"message": "What is 6 times 7?", "stream": True}
        with http.stream(
            "POST", f"/api/v1/agents/{agent.json()['id']}/execute", json=body, headers=headers
        ) as response:
            seen = _events_until(response, "tool.result")
    started = seen[0][1]
    return started["execution_id"], started["conversation_id"]


async def _stored(database_url: str, execution_id: str) -> tuple[Execution, list[Message]]:
    database = Database(Settings(_env_file=None, database_url=database_url))
    try:
        async with database.transaction() as session:
            execution = await session.get(Execution, uuid.UUID(execution_id))
            assert execution is not None
            messages = await session.scalars(
                select(Message)
                .where(Message.conversation_id == execution.conversation_id)
                .order_by(Message.sequence)
            )
            return execution, list(messages)
    finally:
        await database.dispose()


async def test_a_worker_resumes_the_run_of_a_killed_process_from_its_last_step(
    service_settings: dict[str, str], fake_provider: FakeProvider, tmp_path: Path
) -> None:
    fake_provider.queue(ToolCalls(("calculator", '{"expression": "6*7"}')), Hang(seconds=120))
    fake_provider.always(Text(ANSWER))
    env = service_env(
        OPENAI_API_KEY="sk-test",
        OPENAI_BASE_URL=fake_provider.url,
        LLM_MAX_RETRIES="0",
        SWEEP_INTERVAL_SECONDS="0.5",
        RUN_LEASE_SECONDS=str(LEASE_SECONDS),
        **service_settings,
    )
    database_url = service_settings["DATABASE_URL"]
    with served(env, tmp_path) as first:
        execution_id, _ = _start_run(first.url)
        fake_provider.wait_for_requests(2)  # the second model call hangs
        first.kill()
    killed_at = time.monotonic()

    with served(env, tmp_path, run_worker=True) as worker:
        async with httpx.AsyncClient(base_url=worker.url) as http:
            assert (await http.get("/api/v1/agents")).status_code == 404  # no API on workers

        async def completed() -> bool:
            execution, _ = await _stored(database_url, execution_id)
            return execution.status.value == "completed"

        await _wait_async(completed, worker.log_tail)
    resumed_in = time.monotonic() - killed_at

    execution, messages = await _stored(database_url, execution_id)
    assert execution.output == ANSWER
    assert [(m.role.value, m.content) for m in messages] == [
        ("user", "What is 6 times 7?"),
        ("assistant", ""),
        ("tool", "42"),
        ("assistant", ANSWER),
    ]
    # The tool call's model call is not repeated: one request for it, the hung one, and
    # the resumed second call.
    assert len(fake_provider.requests) == 3
    assert resumed_in < RESUME_SECONDS


async def _wait_async(condition: Any, log_tail: Any) -> None:
    """Poll an async condition until it holds, failing with the worker's log after a deadline."""
    deadline = time.monotonic() + RESUME_SECONDS
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"the run never completed on the worker: {log_tail()}")
        await asyncio.sleep(0.2)
{%- endif %}
