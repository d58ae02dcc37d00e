"""Two API processes queue runs, two worker processes execute them: 100 runs, each once.

The API processes run with `RUN_ROLE=api` (they store and queue runs, and follow them
through the shared event log); the workers take them from the queue. Every run completes,
the model is called once per run, each conversation holds its two messages once, and the
engine's own records show both workers executing and neither API process.
"""
{%- if cookiecutter.database == "postgresql" and cookiecutter.use_redis and cookiecutter.use_openai %}

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.support.databases import temporary_database
from tests.support.fake_provider import FakeProvider
from tests.support.fake_replies import Hang, Text
from tests.support.load import (
    REQUEST_SECONDS,
    UNLIMITED_USERS,
    create_agent,
    execute,
    sign_in,
    statuses,
    stored,
)
from tests.support.served import ServedApp, served, service_env

REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
SERVED_REDIS_INDEX = 12
RUNS = 100
WORKER_CONCURRENCY = 30
REPLY = "Done by a worker."

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.skipif(not REDIS_URL, reason="set TEST_REDIS_URL to use a real Redis"),
]


@pytest.fixture
def fleet(
    postgres_admin_url: str, fake_provider: FakeProvider, tmp_path: Path
) -> Iterator[tuple[list[ServedApp], list[ServedApp], str]]:
    """Two API processes and two workers on one database and Redis; and the database."""
    fake_provider.always(Hang(seconds=0.05, then=Text(REPLY)))
    with temporary_database(postgres_admin_url) as database_url, ExitStack() as stack:
        env = service_env(
            DATABASE_URL=database_url,
            REDIS_URL=f"{REDIS_URL.rsplit('/', 1)[0]}/{SERVED_REDIS_INDEX}",
            OPENAI_API_KEY="sk-test",
            OPENAI_BASE_URL=fake_provider.url,
            LLM_MAX_RETRIES="0",
            # Four processes share the test server's connections with the rest of the suite.
            DATABASE_POOL_SIZE="4",
            DATABASE_MAX_OVERFLOW="4",
            RUNS_DATABASE_POOL_SIZE="4",
            # A loaded machine may take seconds to hand out a connection in the burst;
            # shedding is what the burst test checks, not this one.
            DATABASE_POOL_TIMEOUT_SECONDS="30",
            **UNLIMITED_USERS,
        )
        api_env = {**env, "RUN_ROLE": "api"}
        # Each worker takes at most this many runs at once: neither can take them all.
        worker_env = {**env, "MAX_CONCURRENT_RUNS": str(WORKER_CONCURRENCY)}

        def start(name: str, *, worker: bool) -> ServedApp:
            folder = tmp_path / name
            folder.mkdir()
            return stack.enter_context(
                served(worker_env if worker else api_env, folder, run_worker=worker)
            )

        apis = [start(f"api-{n}", worker=False) for n in range(2)]
        workers = [start(f"worker-{n}", worker=True) for n in range(2)]
        yield apis, workers, database_url


def _executors(database_url: str) -> Counter[str]:
    """Runs per executing process, from the engine's own table of workflows."""
    engine = create_engine(database_url.replace("+asyncpg", "+psycopg"))
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT executor_id, count(*) FROM dbos.workflow_status GROUP BY 1")
            )
            return Counter({str(executor): int(count) for executor, count in rows})
    finally:
        engine.dispose()


async def test_runs_queued_by_two_api_processes_are_each_executed_once_by_two_workers(
    fleet: tuple[list[ServedApp], list[ServedApp], str], fake_provider: FakeProvider
) -> None:
    apis, workers, database_url = fleet
    async with httpx.AsyncClient(base_url=apis[0].url, timeout=REQUEST_SECONDS) as http:
        owner, headers = await sign_in(http)
        agent = await create_agent(http, headers, provider="openai", model="gpt-4o-mini")
    limits = httpx.Limits(max_connections=RUNS, max_keepalive_connections=RUNS)
    clients = [
        httpx.AsyncClient(base_url=api.url, timeout=REQUEST_SECONDS, limits=limits) for api in apis
    ]
    try:
        answers = await asyncio.gather(
            *(execute(clients[n % 2], headers, agent, f"run {n}") for n in range(RUNS))
        )
    finally:
        for client in clients:
            await client.aclose()

    logs = "\n".join(process.log_tail() for process in apis + workers)
    assert statuses(list(answers)) == {"200 completed": RUNS}, logs
    assert {answer.body["output"] for answer in answers} == {REPLY}
    after = await stored(database_url, [owner])
    assert dict(after.executions) == {"completed": RUNS}
    assert dict(after.messages_per_conversation) == {2: RUNS}
    assert len(fake_provider.requests) == RUNS
    executors = _executors(database_url)
    worker_ids = {str(worker.process.pid) for worker in workers}
    assert sum(executors.values()) == RUNS
    assert {executor.rsplit("-", 1)[1] for executor in executors} == worker_ids, executors
{%- endif %}
