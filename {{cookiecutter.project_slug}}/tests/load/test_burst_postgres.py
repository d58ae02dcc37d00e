"""Bursts of runs on two uvicorn workers over PostgreSQL and Redis: answered, shed, never lost.

Every run of a burst either completes (its message and the reply stored) or is refused
with a 503/429 and Retry-After before anything is stored; none is a 500 and none is
left running. The provider is the fake OpenAI server, answering after a short delay so
the runs overlap.
"""
{%- if cookiecutter.database == "postgresql" and cookiecutter.use_redis and cookiecutter.use_openai %}

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.support.databases import temporary_database
from tests.support.fake_provider import FakeProvider
from tests.support.fake_replies import Hang, Text
from tests.support.load import (
    FINAL_EVENTS,
    UNLIMITED_USERS,
    burst,
    create_agent,
    sign_in,
    statuses,
    stored,
)
from tests.support.served import ServedApp, served, service_env

REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
# A Redis database of their own: the suite's app sweeps on index 0 and holds its lock there.
SERVED_REDIS_INDEX = 14
OPENAI = {"provider": "openai", "model": "gpt-4o-mini"}
REPLY = "Done under load."

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.skipif(not REDIS_URL, reason="set TEST_REDIS_URL to use a real Redis"),
]


def served_redis_url() -> str:
    """TEST_REDIS_URL's server, on the index kept for served processes."""
    return f"{REDIS_URL.rsplit('/', 1)[0]}/{SERVED_REDIS_INDEX}"


@pytest.fixture(scope="module")
def fake_provider() -> Iterator[FakeProvider]:
    """One fake provider for the module's server, answering every call after a short delay."""
    with FakeProvider() as fake:
        fake.always(Hang(seconds=0.1, then=Text(REPLY)))
        yield fake


@pytest.fixture(scope="module")
def server(
    postgres_admin_url: str, fake_provider: FakeProvider, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServedApp, str]]:
    """Two workers on a fresh PostgreSQL database and Redis; the server and its database.

    Each test counts only its own users' rows, so the tests share the server.
    """
    with temporary_database(postgres_admin_url) as database_url:
        env = service_env(
            DATABASE_URL=database_url,
            REDIS_URL=served_redis_url(),
            OPENAI_API_KEY="sk-test",
            OPENAI_BASE_URL=fake_provider.url,
            LLM_MAX_RETRIES="0",
            # Small pools: other suites share the server's 100 connections; runs queue.
            DATABASE_POOL_SIZE="4",
            DATABASE_MAX_OVERFLOW="4",
            **UNLIMITED_USERS,
        )
        # Both workers migrate on start; PostgreSQL's advisory lock makes them take turns.
        with served(env, tmp_path_factory.mktemp("served"), workers=2) as app:
            yield app, database_url


async def _users_and_agents(
    url: str, count: int
) -> tuple[list[uuid.UUID], list[dict[str, str]], list[str]]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        signed_in = [await sign_in(http) for _ in range(count)]
        users = [headers for _, headers in signed_in]
        agents = [await create_agent(http, headers, **OPENAI) for headers in users]
    return [user_id for user_id, _ in signed_in], users, agents


async def test_200_simultaneous_runs_complete_or_are_shed_cleanly(
    server: tuple[ServedApp, str], fake_provider: FakeProvider
) -> None:
    calls_before = len(fake_provider.requests)
    app, database_url = server
    owners, users, agents = await _users_and_agents(app.url, 4)

    answers = await burst(app.url, users, agents, 200, stream=False)

    completed = [a for a in answers if a.status == 200 and a.body["status"] == "completed"]
    refused = [a for a in answers if a.refused]
    assert len(completed) + len(refused) == 200, (statuses(answers), app.log_tail())
    assert completed, statuses(answers)
    assert {a.body["output"] for a in completed} == {REPLY}
    # A refused run stored nothing; a completed one its message and the reply, nothing more.
    after = await stored(database_url, owners)
    assert dict(after.executions) == {"completed": len(completed)}
    assert after.conversations == len(completed)
    assert dict(after.messages) == {"user": len(completed), "assistant": len(completed)}
    assert dict(after.messages_per_conversation) == {2: len(completed)}
    assert len(fake_provider.requests) - calls_before == len(completed)


async def test_50_simultaneous_streams_each_end_or_are_refused_before_streaming(
    server: tuple[ServedApp, str],
) -> None:
    app, database_url = server
    owners, users, agents = await _users_and_agents(app.url, 2)

    answers = await burst(app.url, users, agents, 50, stream=True)

    streamed = [a for a in answers if a.status == 200]
    refused = [a for a in answers if a.refused]
    assert len(streamed) + len(refused) == 50, (statuses(answers), app.log_tail())
    finals = [a.events[-1] for a in streamed]
    assert all(name in FINAL_EVENTS for name, _ in finals), finals
    completed = [data for name, data in finals if name == "execution.completed"]
    failed = [data for name, data in finals if name == "execution.failed"]
    assert all(data["error_type"] and data["error_message"] for data in failed), failed
    assert all(data["output"] == REPLY for data in completed)
    after = await stored(database_url, owners)
    assert dict(after.executions) == {
        status: count
        for status, count in (("completed", len(completed)), ("failed", len(failed)))
        if count
    }
    assert after.messages["user"] == len(streamed)
    assert after.messages["assistant"] == len(completed)
{%- endif %}
