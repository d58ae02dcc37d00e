"""`"background": true`: 202 at once with the execution and its Location; the run goes on."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from tests.support.runs import create_agent, execute, execute_with_key, parse_sse, scripted_calls
from tests.support.waiting import wait_for


async def _finished(client: httpx.AsyncClient, headers: dict[str, str], location: str) -> Any:
    """Poll the execution at `location` until it has ended; its final state."""
    seen: dict[str, Any] = {}

    async def ended() -> bool:
        response = await client.get(location, headers=headers)
        assert response.status_code == 200, response.text
        seen.update(response.json())
        return seen["status"] in ("completed", "failed", "cancelled")

    await wait_for(ended, message=f"{location} never finished")
    return seen


async def test_a_background_run_is_accepted_at_once_and_finishes(
    client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    agent = await create_agent(client, auth_headers, tools=["calculator"])
    message = '!sleep 1\n!tool calculator {"expression": "6*7"}'

    accepted = await execute(client, auth_headers, agent["id"], message, background=True)

    assert accepted.status_code == 202, accepted.text
    execution = accepted.json()
    # Answered while the run still sleeps: it has not waited for the outcome.
    assert execution["status"] in ("pending", "running")
    location = accepted.headers["location"]
    assert location == f"/api/v1/executions/{execution['id']}"
    followed = await client.get(f"{location}/events", headers=auth_headers)
    finished = await _finished(client, auth_headers, location)
    events = parse_sse(followed.text)
    names = [name for name, _ in events]
    assert names.index("tool.call") < names.index("tool.result")
    assert names[-1] == "execution.completed"
    assert events[-1][1]["execution_id"] == execution["id"]
    assert finished["status"] == "completed"
    assert "42" in finished["output"]
    assert events[-1][1]["output"] == finished["output"]


async def test_a_finished_background_run_replays_its_events_to_a_late_follower(
    client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    agent = await create_agent(client, auth_headers)

    accepted = await execute(
        client, auth_headers, agent["id"], "!error unavailable", background=True
    )
    finished = await _finished(client, auth_headers, accepted.headers["location"])
    followed = await client.get(f"{accepted.headers['location']}/events", headers=auth_headers)

    assert finished["status"] == "failed"
    assert finished["error_type"] == "provider.unavailable"
    [(started, _), (name, outcome)] = parse_sse(followed.text)
    assert started == "execution.started"
    assert name == "execution.failed"
    assert outcome["error_type"] == "provider.unavailable"


async def test_background_wins_over_an_accept_header_and_excludes_stream(
    client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    agent = await create_agent(client, auth_headers)
    url = f"/api/v1/agents/{agent['id']}/execute"

    accepted = await client.post(
        url,
        json={"message": "hi", "background": True},
        headers={**auth_headers, "Accept": "text/event-stream"},
    )
    both = await client.post(
        url, json={"message": "hi", "background": True, "stream": True}, headers=auth_headers
    )

    assert accepted.status_code == 202
    assert accepted.headers["content-type"] == "application/json"
    assert both.status_code == 422
    [problem] = both.json()["detail"]
    assert "stream and background exclude each other" in problem["msg"]


async def test_a_repeated_background_request_answers_202_with_the_same_run(
    client: httpx.AsyncClient, auth_headers: dict[str, str], app: FastAPI
) -> None:
    agent = await create_agent(client, auth_headers)
    marker = uuid.uuid4().hex
    body = {"message": f"later {marker}", "background": True}

    first = await execute_with_key(client, auth_headers, agent["id"], "bg", body)
    await _finished(client, auth_headers, first.headers["location"])
    again = await execute_with_key(client, auth_headers, agent["id"], "bg", body)

    assert first.status_code == again.status_code == 202
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["status"] == "completed"
    assert scripted_calls(app, marker) == 1
