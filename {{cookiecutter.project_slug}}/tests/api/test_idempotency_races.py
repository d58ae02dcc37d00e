"""One Idempotency-Key, several requests at once or while its run goes on: one run.

The scripted provider's `!sleep` keeps a run going long enough to repeat the request
meanwhile; a marker in each message counts the model calls it caused.
"""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from app.db.session import Database
from tests.support.runs import (
    create_agent,
    execute_with_key,
    executions_of,
    parse_sse,
    scripted_calls,
)
from tests.support.waiting import wait_for

run = execute_with_key


async def test_requests_racing_with_one_key_start_one_run(
    client: httpx.AsyncClient, auth_headers: dict[str, str], app: FastAPI
) -> None:
    agent = await create_agent(client, auth_headers)
    marker = uuid.uuid4().hex
    body = {"message": f"!sleep 0.3\nrace {marker}"}

    answers = await asyncio.gather(
        *(run(client, auth_headers, agent["id"], "race", body) for _ in range(5))
    )

    assert [answer.status_code for answer in answers] == [200] * 5, [a.text for a in answers]
    assert {answer.json()["id"] for answer in answers} == {answers[0].json()["id"]}
    # Every repeat waited for the run, so each reads it finished.
    assert {answer.json()["status"] for answer in answers} == {"completed"}
    assert sum("idempotent-replayed" in answer.headers for answer in answers) == 4
    assert scripted_calls(app, marker) == 1
    assert len(await executions_of(client, auth_headers)) == 1


async def _waiting_for_the_key_table(database: Database) -> int:
    """PostgreSQL backends of this database blocked on a lock while deleting expired keys."""
    async with database.engine.connect() as connection:
        waiting = await connection.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND query LIKE 'DELETE FROM idempotency_keys%'"
            )
        )
    return int(waiting or 0)


@pytest.mark.postgres
async def test_requests_held_past_the_lookup_race_for_the_key_and_one_wins(
    client: httpx.AsyncClient, auth_headers: dict[str, str], app: FastAPI, database: Database
) -> None:
    """All four miss the key and race to store it: three lose on the key and read the winner's."""
    if database.engine.dialect.name != "postgresql":
        pytest.skip("set TEST_DATABASE_URL to run against PostgreSQL")
    agent = await create_agent(client, auth_headers)
    marker = uuid.uuid4().hex
    body = {"message": f"held {marker}"}
    async with database.engine.connect() as holder:
        # Reads go on; each request stops at its first write to the table, past its lookup.
        await holder.execute(text("LOCK TABLE idempotency_keys IN EXCLUSIVE MODE"))
        requests = [
            asyncio.create_task(run(client, auth_headers, agent["id"], "held", body))
            for _ in range(4)
        ]

        async def all_held() -> bool:
            return await _waiting_for_the_key_table(database) == len(requests)

        await wait_for(all_held, message="the requests never reached the key table")
        await holder.rollback()
    answers = await asyncio.gather(*requests)

    assert [answer.status_code for answer in answers] == [200] * 4, [a.text for a in answers]
    assert len({answer.json()["id"] for answer in answers}) == 1
    assert sum("idempotent-replayed" in answer.headers for answer in answers) == 3
    assert scripted_calls(app, marker) == 1
    assert len(await executions_of(client, auth_headers)) == 1


async def test_a_repeat_of_a_run_in_progress_waits_for_its_outcome(
    client: httpx.AsyncClient, auth_headers: dict[str, str], app: FastAPI
) -> None:
    agent = await create_agent(client, auth_headers)
    marker = uuid.uuid4().hex
    body = {"message": f"!sleep 1\nslow {marker}"}
    first = asyncio.create_task(run(client, auth_headers, agent["id"], "slow", body))

    async def running() -> bool:
        return any(e["status"] == "running" for e in await executions_of(client, auth_headers))

    await wait_for(running, message="the first run never started")
    repeat = await run(client, auth_headers, agent["id"], "slow", body)

    assert repeat.status_code == 200, repeat.text
    assert repeat.json()["status"] == "completed"
    assert repeat.json()["output"] == f"[scripted] slow {marker}"
    assert repeat.json()["id"] == (await first).json()["id"]
    assert scripted_calls(app, marker) == 1


async def test_a_repeated_stream_follows_the_run(
    client: httpx.AsyncClient, auth_headers: dict[str, str], app: FastAPI
) -> None:
    agent = await create_agent(client, auth_headers)
    marker = uuid.uuid4().hex
    body = {"message": f"!sleep 1\nstreamed {marker}", "stream": True}
    first = asyncio.create_task(run(client, auth_headers, agent["id"], "s", body))

    async def stored() -> bool:
        return bool(await executions_of(client, auth_headers))

    await wait_for(stored, message="the first run was never stored")
    repeat = await run(client, auth_headers, agent["id"], "s", body)
    original = parse_sse((await first).text)

    assert repeat.status_code == 200
    assert repeat.headers["content-type"].startswith("text/event-stream")
    assert repeat.headers["idempotent-replayed"] == "true"
    name, outcome = parse_sse(repeat.text)[-1]
    assert name == "execution.completed"
    assert outcome["execution_id"] == original[0][1]["execution_id"]
    assert outcome["output"] == f"[scripted] streamed {marker}"
    assert scripted_calls(app, marker) == 1
