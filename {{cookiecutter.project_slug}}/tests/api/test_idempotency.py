"""Idempotency-Key on `POST /agents/{id}/execute`: a repeated request gets the run it started.

Runs use the offline scripted provider; a marker in each message counts the model calls
that message caused. The same tests run on PostgreSQL with TEST_DATABASE_URL set.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import update

from app.db.session import Database
from app.db.types import utc_now
from app.models import IdempotencyKey
from tests.support.factories import AppFactory, UserFactory, client_for
from tests.support.runs import create_agent, execute_with_key, executions_of, scripted_calls

run = execute_with_key
KEY_PROBLEM = "Idempotency-Key must be 1 to 255 printable ASCII characters"


async def test_a_repeated_request_answers_with_the_first_run(
    client: httpx.AsyncClient, auth_headers: dict[str, str], app: FastAPI
) -> None:
    agent = await create_agent(client, auth_headers)
    marker = uuid.uuid4().hex
    body = {"message": f"hello {marker}"}

    first = await run(client, auth_headers, agent["id"], "order-1", body)
    second = await run(client, auth_headers, agent["id"], "order-1", body)

    assert first.status_code == second.status_code == 200, second.text
    assert "idempotent-replayed" not in first.headers
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json() == first.json()
    assert first.json()["status"] == "completed"
    assert scripted_calls(app, marker) == 1
    assert len(await executions_of(client, auth_headers)) == 1


async def test_a_key_sent_with_a_different_request_is_refused(
    client: httpx.AsyncClient, auth_headers: dict[str, str], app: FastAPI
) -> None:
    agent = await create_agent(client, auth_headers)
    other_agent = await create_agent(client, auth_headers, name="other")
    marker = uuid.uuid4().hex
    first = await run(client, auth_headers, agent["id"], "k", {"message": "one"})

    refused = [
        await run(client, auth_headers, agent["id"], "k", {"message": marker}),
        await run(client, auth_headers, agent["id"], "k", {"message": "one", "stream": True}),
        await run(client, auth_headers, other_agent["id"], "k", {"message": "one"}),
    ]

    assert first.status_code == 200
    for response in refused:
        assert response.status_code == 422, response.text
        [problem] = response.json()["detail"]
        assert problem["loc"] == ["header", "Idempotency-Key"]
        assert problem["type"] == "idempotency_key_reused"
        assert "already used for a different request" in problem["msg"]
    assert scripted_calls(app, marker) == 0
    assert len(await executions_of(client, auth_headers)) == 1


async def test_the_same_body_written_differently_is_the_same_request(
    client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    agent = await create_agent(client, auth_headers)
    url = f"/api/v1/agents/{agent['id']}/execute"
    headers = {**auth_headers, "Idempotency-Key": "spelled", "Content-Type": "application/json"}

    first = await client.post(url, content=b'{"message": "hi", "stream": false}', headers=headers)
    second = await client.post(url, content=b'{ "message":"hi" }', headers=headers)

    assert second.status_code == 200, second.text
    assert second.json()["id"] == first.json()["id"]


async def test_keys_belong_to_their_user(
    client: httpx.AsyncClient, users: UserFactory, app: FastAPI
) -> None:
    me, someone = await users.signed_in(), await users.signed_in()
    marker = uuid.uuid4().hex
    body = {"message": f"mine {marker}"}
    mine = await create_agent(client, me.headers)
    theirs = await create_agent(client, someone.headers)

    first = await run(client, me.headers, mine["id"], "shared-key", body)
    second = await run(client, someone.headers, theirs["id"], "shared-key", body)

    assert first.status_code == second.status_code == 200
    assert first.json()["id"] != second.json()["id"]
    assert "idempotent-replayed" not in second.headers
    assert scripted_calls(app, marker) == 2


async def test_a_key_past_its_window_starts_a_new_run(
    client: httpx.AsyncClient, auth_headers: dict[str, str], database: Database, app: FastAPI
) -> None:
    agent = await create_agent(client, auth_headers)
    marker = uuid.uuid4().hex
    body = {"message": f"again {marker}"}
    first = await run(client, auth_headers, agent["id"], "daily", body)
    window = timedelta(seconds=app.state.settings.idempotency_window_seconds)
    async with database.transaction() as session:
        aged = utc_now() - window - timedelta(seconds=1)
        await session.execute(update(IdempotencyKey).values(created_at=aged))

    second = await run(client, auth_headers, agent["id"], "daily", body)
    third = await run(client, auth_headers, agent["id"], "daily", body)

    assert second.status_code == 200
    assert second.json()["id"] != first.json()["id"]
    assert third.json()["id"] == second.json()["id"]
    assert third.headers["idempotent-replayed"] == "true"
    assert scripted_calls(app, marker) == 2


async def test_a_repeat_is_not_refused_for_the_runs_in_progress(make_app: AppFactory) -> None:
    app = await make_app(max_concurrent_runs_per_user=1)
    async with client_for(app) as client:
        me = await UserFactory(client, app.state.database).signed_in()
        agent = await create_agent(client, me.headers)
        body = {"message": "!sleep 30\nlong", "background": True}
        started = await run(client, me.headers, agent["id"], "capped", body)

        repeat = await run(client, me.headers, agent["id"], "capped", body)
        another = await run(client, me.headers, agent["id"], None, {"message": "more"})
        await client.post(f"/api/v1/executions/{started.json()['id']}/cancel", headers=me.headers)

    assert started.status_code == repeat.status_code == 202
    assert repeat.json()["id"] == started.json()["id"]
    assert another.status_code == 429


async def test_malformed_keys_are_refused(
    client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    agent = await create_agent(client, auth_headers)
    url = f"/api/v1/agents/{agent['id']}/execute"
    body = {"message": "hi"}

    longest = await client.post(
        url, json=body, headers={**auth_headers, "Idempotency-Key": "k" * 255}
    )
    token = auth_headers["Authorization"].encode()
    refused = [
        await client.post(
            url, json=body, headers=[(b"Authorization", token), (b"Idempotency-Key", key)]
        )
        for key in (b"k" * 256, "clé".encode(), b"tab\there", b"")
    ]

    assert longest.status_code == 200, longest.text
    for response in refused:
        assert response.status_code == 422, response.text
        [problem] = response.json()["detail"]
        assert problem["loc"] == ["header", "Idempotency-Key"]
        assert problem["msg"] == KEY_PROBLEM
    assert len(await executions_of(client, auth_headers)) == 1
