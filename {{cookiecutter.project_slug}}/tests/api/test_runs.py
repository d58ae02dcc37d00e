"""Running agents through the API with the offline scripted provider."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import httpx
from fastapi import FastAPI

from app.ai.providers.base import Usage
from app.ai.providers.pricing import cost_of
from tests.support.runs import create_agent, execute, messages_of, parse_sse, sse_ids
from tests.support.waiting import wait_for

CALCULATE = '!tool calculator {"expression": "6*7"}'


async def test_plain_run_stores_both_messages_and_usage(
    client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    agent = await create_agent(client, auth_headers)

    response = await execute(client, auth_headers, agent["id"], "hello there")

    assert response.status_code == 200, response.text
    execution = response.json()
    assert execution["status"] == "completed"
    assert execution["output"] == "[scripted] hello there"
    assert execution["input_tokens"] > 0
    assert execution["output_tokens"] > 0
    assert execution["duration_ms"] >= 0
    messages = await messages_of(client, auth_headers, execution["conversation_id"])
    assert [(m["role"], m["content"]) for m in messages] == [
        ("user", "hello there"),
        ("assistant", "[scripted] hello there"),
    ]


async def test_cost_comes_from_the_price_table(
    client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    agent = await create_agent(client, auth_headers, model="gpt-4o-mini")

    execution = (await execute(client, auth_headers, agent["id"], "price this reply")).json()

    usage = Usage(execution["input_tokens"], execution["output_tokens"])
    expected = cost_of("gpt-4o-mini", usage)
    assert expected > 0
    assert Decimal(execution["cost"]) == expected


async def test_tool_loop_runs_tools_and_persists_every_step(
    client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    agent = await create_agent(client, auth_headers, tools=["calculator"])

    execution = (await execute(client, auth_headers, agent["id"], CALCULATE)).json()

    assert execution["status"] == "completed"
    assert "42" in execution["output"]
    messages = await messages_of(client, auth_headers, execution["conversation_id"])
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "assistant"]
    call = messages[1]["tool_calls"][0]
    assert call["name"] == "calculator"
    assert call["arguments"] == {"expression": "6*7"}
    assert messages[2]["tool_call_id"] == call["id"]
    assert messages[2]["content"] == "42"


async def test_conversation_continues_with_its_history(
    client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    agent = await create_agent(client, auth_headers)
    first = (await execute(client, auth_headers, agent["id"], "first")).json()

    second = await execute(
        client, auth_headers, agent["id"], "second", conversation_id=first["conversation_id"]
    )

    assert second.json()["conversation_id"] == first["conversation_id"]
    messages = await messages_of(client, auth_headers, first["conversation_id"])
    assert [m["content"] for m in messages] == [
        "first",
        "[scripted] first",
        "second",
        "[scripted] second",
    ]


async def test_a_tool_the_agent_may_not_use_is_refused_as_a_tool_error(
    client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    agent = await create_agent(client, auth_headers, tools=[])

    execution = (await execute(client, auth_headers, agent["id"], CALCULATE)).json()

    assert execution["status"] == "completed"
    messages = await messages_of(client, auth_headers, execution["conversation_id"])
    tool_message = next(m for m in messages if m["role"] == "tool")
    assert "not" in tool_message["content"].lower()
    assert "42" not in tool_message["content"]


async def test_provider_failure_fails_the_execution_and_keeps_messages(
    client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    agent = await create_agent(client, auth_headers)

    execution = (await execute(client, auth_headers, agent["id"], "!error rate_limited")).json()

    assert execution["status"] == "failed"
    assert execution["error_type"] == "provider.rate_limited"
    assert execution["error_message"]
    messages = await messages_of(client, auth_headers, execution["conversation_id"])
    assert [m["role"] for m in messages] == ["user"]
    stored = await client.get(f"/api/v1/executions/{execution['id']}", headers=auth_headers)
    assert stored.json()["status"] == "failed"


async def test_stream_sends_events_in_order(
    client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    agent = await create_agent(client, auth_headers, tools=["calculator"])

    response = await execute(client, auth_headers, agent["id"], CALCULATE, stream=True)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    names = [name for name, _ in parse_sse(response.text)]
    assert names[0] == "execution.started"
    assert names.index("tool.call") < names.index("tool.result")
    assert "message.delta" in names
    assert names[-1] == "execution.completed"
    deltas = "".join(d["text"] for n, d in parse_sse(response.text) if n == "message.delta")
    assert "42" in deltas


async def test_accept_header_selects_the_stream(
    client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    agent = await create_agent(client, auth_headers)

    response = await client.post(
        f"/api/v1/agents/{agent['id']}/execute",
        json={"message": "hi"},
        headers={**auth_headers, "Accept": "text/event-stream", "Accept-Encoding": "gzip"},
    )

    assert response.headers["content-type"].startswith("text/event-stream")
    assert "content-encoding" not in response.headers
    assert parse_sse(response.text)[-1][0] == "execution.completed"


async def test_stream_reports_failure_as_an_event(
    client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    agent = await create_agent(client, auth_headers)

    response = await execute(client, auth_headers, agent["id"], "!error unavailable", stream=True)

    name, data = parse_sse(response.text)[-1]
    assert name == "execution.failed"
    assert data["status"] == "failed"
    assert data["error_type"] == "provider.unavailable"


async def test_cancel_stops_a_running_execution(
    client: httpx.AsyncClient, auth_headers: dict[str, str], app: FastAPI
) -> None:
    agent = await create_agent(client, auth_headers)
    run = asyncio.create_task(execute(client, auth_headers, agent["id"], "!sleep 30"))
    execution_id = await _wait_for_running(client, auth_headers)

    cancelled = await client.post(f"/api/v1/executions/{execution_id}/cancel", headers=auth_headers)

    assert cancelled.status_code == 202
    assert cancelled.json()["status"] == "cancelled"
    result = (await asyncio.wait_for(run, 5)).json()
    assert result["status"] == "cancelled"
    assert result["error_type"] == "cancelled"
    messages = await messages_of(client, auth_headers, result["conversation_id"])
    assert [m["content"] for m in messages] == ["!sleep 30"]


async def test_cancelling_a_finished_execution_is_a_conflict(
    client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    agent = await create_agent(client, auth_headers)
    execution = (await execute(client, auth_headers, agent["id"], "done")).json()

    response = await client.post(
        f"/api/v1/executions/{execution['id']}/cancel", headers=auth_headers
    )

    assert response.status_code == 409


async def test_runs_are_private(
    client: httpx.AsyncClient, auth_headers: dict[str, str], other_headers: dict[str, str]
) -> None:
    agent = await create_agent(client, auth_headers)
    execution = (await execute(client, auth_headers, agent["id"], "mine")).json()

    run_other = await execute(client, other_headers, agent["id"], "theirs")
    cancel_other = await client.post(
        f"/api/v1/executions/{execution['id']}/cancel", headers=other_headers
    )
    own_agent = await create_agent(client, other_headers)
    hijack = await execute(
        client,
        other_headers,
        own_agent["id"],
        "continue theirs",
        conversation_id=execution["conversation_id"],
    )

    assert run_other.status_code == 404
    assert cancel_other.status_code == 404
    assert hijack.status_code == 404


async def test_bad_run_requests_are_4xx(
    client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    agent = await create_agent(client, auth_headers)
    url = f"/api/v1/agents/{agent['id']}/execute"

    empty = await client.post(url, json={"message": ""}, headers=auth_headers)
    not_json = await client.post(url, content=b"{", headers=auth_headers)
    bad_conversation = await client.post(
        url, json={"message": "x", "conversation_id": "nope"}, headers=auth_headers
    )
    anonymous = await client.post(url, json={"message": "x"})

    assert empty.status_code == 422
    assert not_json.status_code == 422
    assert bad_conversation.status_code == 422
    assert anonymous.status_code == 401


async def test_disabled_agent_cannot_run(
    client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    agent = await create_agent(client, auth_headers, is_active=False)

    response = await execute(client, auth_headers, agent["id"], "hi")

    assert response.status_code == 422
    assert "disabled" in response.json()["detail"]


async def _wait_for_running(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    running: list[dict[str, Any]] = []

    async def started() -> bool:
        listing = await client.get(
            "/api/v1/executions", params={"status": "running"}, headers=headers
        )
        running[:] = listing.json()["items"]
        return bool(running)

    await wait_for(started, message="no execution started running")
    return str(running[0]["id"])


async def test_a_run_can_be_followed_from_another_request(
    client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    agent = await create_agent(client, auth_headers, tools=["calculator"])
    # A follower sees events from the moment it subscribes: the first model call waits
    # long enough for that on a loaded machine under coverage tracing.
    run = asyncio.create_task(
        execute(
            client, auth_headers, agent["id"], '!sleep 2\n!tool calculator {"expression": "6*7"}'
        )
    )
    execution_id = await _wait_for_running(client, auth_headers)

    followed = await client.get(f"/api/v1/executions/{execution_id}/events", headers=auth_headers)

    events = parse_sse(followed.text)
    names = [name for name, _ in events]
    assert names.index("tool.call") < names.index("tool.result")
    assert names[-1] == "execution.completed"
    assert "42" in events[-1][1]["output"]
    assert (await run).json()["status"] == "completed"


async def test_following_a_finished_run_replays_its_events_and_outcome(
    client: httpx.AsyncClient, auth_headers: dict[str, str], other_headers: dict[str, str]
) -> None:
    agent = await create_agent(client, auth_headers)
    execution = (await execute(client, auth_headers, agent["id"], "!error timeout")).json()
    url = f"/api/v1/executions/{execution['id']}/events"

    followed = await client.get(url, headers=auth_headers)
    foreign = await client.get(url, headers=other_headers)

    [(started, ids), (name, outcome)] = parse_sse(followed.text)
    assert started == "execution.started"
    assert ids == {"execution_id": execution["id"], "conversation_id": execution["conversation_id"]}
    assert name == "execution.failed"
    assert outcome["execution_id"] == execution["id"]
    assert outcome["status"] == "failed"
    assert outcome["error_type"] == "provider.timeout"
    assert outcome["error_message"] == execution["error_message"]
    assert Decimal(outcome["cost"]) == Decimal(execution["cost"])
    assert foreign.status_code == 404


async def test_a_run_whose_events_have_expired_answers_with_its_outcome_alone(
    app: FastAPI, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    agent = await create_agent(client, auth_headers)
    execution = (await execute(client, auth_headers, agent["id"], "hello")).json()
    await app.state.store.delete(f"execution-events:{execution['id']}")

    followed = await client.get(
        f"/api/v1/executions/{execution['id']}/events", headers=auth_headers
    )

    [(name, outcome)] = parse_sse(followed.text)
    assert name == "execution.completed"
    assert outcome["output"] == execution["output"]
    assert sse_ids(followed.text) == [(None, "execution.completed")]
