"""A process killed mid-run (`kill -9`): a worker started after it resumes the run.

The run has called a tool and waits on its second model call when the whole process
group is killed. A worker on the same database (and Redis, when used) resumes it from
its last completed step: the first model call and the tool call are not repeated, and
the conversation ends with each message exactly once.
"""
{%- if cookiecutter.use_openai %}

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
{% if cookiecutter.use_redis %}
from app.ai.runs import events
{%- endif %}
from app.core.config import Settings
{%- if cookiecutter.use_redis %}
from app.core.event_log import START, parse_id
from app.core.store_redis import RedisStore
{%- endif %}
from app.db.session import Database
from app.models import Execution, Message
from tests.support.fake_provider import FakeProvider
from tests.support.fake_replies import Hang, Text, ToolCalls
from tests.support.served import served, service_env
from tests.support.waiting import wait_for

pytestmark = pytest.mark.slow

ANSWER = "6 times 7 is 42."
LEASE_SECONDS = 2
RESUME_SECONDS = 45.0


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

        await wait_for(
            completed,
            deadline_seconds=RESUME_SECONDS,
            poll_seconds=0.2,
            message=lambda: f"the run never completed on the worker: {worker.log_tail()}",
        )
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
{%- if cookiecutter.use_redis %}
    if "REDIS_URL" in service_settings:
        await _assert_each_event_logged_once(service_settings["REDIS_URL"], execution_id)


async def _assert_each_event_logged_once(redis_url: str, execution_id: str) -> None:
    """The run's event log, written by both processes, holds each event once and in order."""
    store = RedisStore.from_url(redis_url)
    try:
        logged = await store.read_events(f"execution-events:{execution_id}", START, wait_seconds=0)
    finally:
        await store.close()
    logged_events = [events.decode(entry) for entry in logged]
    names = [event.name for event in logged_events]
    ids = [parse_id(entry.id) for entry in logged]
    assert ids == sorted(set(ids))
    for once in ("execution.started", "tool.call", "tool.result", "execution.completed"):
        assert names.count(once) == 1, names
    assert names[-1] == "execution.completed"
    answer = logged_events[names.index("tool.result") + 1 : -1]
    assert "".join(event.data["text"] for event in answer) == ANSWER
{%- endif %}

{%- endif %}
