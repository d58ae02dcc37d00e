"""A misbehaving provider, driven through the API: each failure ends cleanly and keeps what it can.

The provider is the real OpenAI SDK talking to `tests.support.fake_provider` on loopback.
Each test checks what a user sees (the HTTP answer and the final status), what is stored
(their message, any partial reply) and how many requests reached the provider.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from app.db.session import Database
from tests.support.factories import AppFactory, UserFactory, client_for
from tests.support.fake_provider import FakeProvider
from tests.support.fake_replies import (
    CutStream,
    Hang,
    KeepAlive,
    Raw,
    Status,
    Text,
    ToolCalls,
    chunk,
)
from tests.support.runs import create_agent, execute, messages_of, parse_sse
from tests.support.waiting import wait_for

OPENAI = {"provider": "openai", "model": "gpt-4o-mini", "tools": ["calculator"]}


@pytest.fixture
def call_timeout() -> float:
    """Each model call's deadline; tests of that deadline shorten it."""
    return 60.0


@pytest.fixture
async def service(
    make_app: AppFactory, fake_provider: FakeProvider, call_timeout: float
) -> FastAPI:
    """The service with OpenAI pointed at the fake provider."""
    return await make_app(
        openai_api_key=SecretStr("sk-test"),
        openai_base_url=fake_provider.url,
        llm_max_retries=0,
        llm_call_timeout_seconds=call_timeout,
    )


@pytest.fixture
async def http(service: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(service) as client:
        yield client


@pytest.fixture
async def headers(http: httpx.AsyncClient, service: FastAPI) -> dict[str, str]:
    database: Database = service.state.database
    return (await UserFactory(http, database).signed_in()).headers


@pytest.fixture
async def agent_id(http: httpx.AsyncClient, headers: dict[str, str]) -> str:
    return str((await create_agent(http, headers, **OPENAI))["id"])


async def _execution(http: httpx.AsyncClient, headers: dict[str, str], execution_id: str) -> Any:
    response = await http.get(f"/api/v1/executions/{execution_id}", headers=headers)
    assert response.status_code == 200
    return response.json()


async def test_invalid_tool_arguments_go_back_to_the_model_to_correct(
    http: httpx.AsyncClient, headers: dict[str, str], agent_id: str, fake_provider: FakeProvider
) -> None:
    fake_provider.queue(ToolCalls(("calculator", '{"expression": "1+')), Text("Fixed it."))

    response = await execute(http, headers, agent_id, "add one and one")

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["output"]) == ("completed", "Fixed it.")
    messages = await messages_of(http, headers, body["conversation_id"])
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "assistant"]
    assert messages[2]["content"].startswith("Invalid arguments for calculator")
    second_request = fake_provider.bodies()[1]["messages"]
    assert "Invalid arguments for calculator" in second_request[-1]["content"]
    assert len(fake_provider.requests) == 2


@pytest.mark.parametrize("call_timeout", [1.0])
async def test_a_provider_that_only_keeps_alive_fails_at_the_call_deadline(
    http: httpx.AsyncClient, headers: dict[str, str], agent_id: str, fake_provider: FakeProvider
) -> None:
    fake_provider.queue(KeepAlive())

    response = await execute(http, headers, agent_id, "hello", stream=True)

    assert response.status_code == 200
    events = parse_sse(response.text)
    assert events[-1][0] == "execution.failed"
    final = events[-1][1]
    assert (final["status"], final["error_type"]) == ("failed", "provider.timeout")
    assert "within 1s" in final["error_message"]
    assert len(fake_provider.requests) == 1


async def test_a_stream_cut_mid_reply_keeps_the_partial_text(
    http: httpx.AsyncClient, headers: dict[str, str], agent_id: str, fake_provider: FakeProvider
) -> None:
    fake_provider.queue(CutStream("Half of an answer that stops", pieces=3))

    response = await execute(http, headers, agent_id, "tell me", stream=True)

    events = parse_sse(response.text)
    deltas = "".join(data["text"] for name, data in events if name == "message.delta")
    assert events[-1][0] == "execution.failed"
    assert events[-1][1]["error_type"].startswith("provider.")
    messages = await messages_of(http, headers, events[-1][1]["conversation_id"])
    assert [(m["role"], m["incomplete"]) for m in messages] == [
        ("user", False),
        ("assistant", True),
    ]
    assert messages[0]["content"] == "tell me"
    assert messages[1]["content"] == deltas != ""
    assert len(fake_provider.requests) == 1


async def test_a_cancel_mid_stream_keeps_the_partial_text(
    http: httpx.AsyncClient, headers: dict[str, str], agent_id: str, fake_provider: FakeProvider
) -> None:
    opening = (chunk({"role": "assistant", "content": "So far "}), chunk({"content": "so good"}))
    fake_provider.queue(KeepAlive(opening=opening))
    stream = asyncio.create_task(execute(http, headers, agent_id, "go on", stream=True))
    await asyncio.to_thread(fake_provider.wait_for_requests, 1)
    listed = await http.get("/api/v1/executions", headers=headers)
    execution_id = listed.json()["items"][0]["id"]

    async def draft_saved() -> bool:
        execution = await _execution(http, headers, execution_id)
        messages = await messages_of(http, headers, execution["conversation_id"])
        return any(m["incomplete"] for m in messages)

    await wait_for(draft_saved, message="the partial reply is saved while streaming")
    cancelled = await http.post(f"/api/v1/executions/{execution_id}/cancel", headers=headers)
    response = await asyncio.wait_for(stream, timeout=10)

    assert cancelled.status_code == 202
    events = parse_sse(response.text)
    assert (events[-1][0], events[-1][1]["status"]) == ("execution.failed", "cancelled")
    execution = await _execution(http, headers, execution_id)
    assert execution["status"] == "cancelled"
    messages = await messages_of(http, headers, execution["conversation_id"])
    assert [(m["role"], m["content"], m["incomplete"]) for m in messages] == [
        ("user", "go on", False),
        ("assistant", "So far so good", True),
    ]
    assert len(fake_provider.requests) == 1


async def test_a_cancel_stops_a_fast_stream_within_a_bound(
    http: httpx.AsyncClient, headers: dict[str, str], agent_id: str, fake_provider: FakeProvider
) -> None:
    """A cancel lost inside a store call still stops the run.

    Every delta is published to the store; Python 3.11's `wait_for` under redis-py's socket
    timeout swallows some cancels. Against Redis this reproduces the lost cancel.
    """
    fake_provider.queue(KeepAlive(interval=0.002, frames=(chunk({"content": "word "}),)))
    stream = asyncio.create_task(execute(http, headers, agent_id, "talk", stream=True))
    await asyncio.to_thread(fake_provider.wait_for_requests, 1)
    listed = await http.get("/api/v1/executions", headers=headers)
    execution_id = listed.json()["items"][0]["id"]
    await wait_for(lambda: len(fake_provider.requests) == 1)
    cancelled = await http.post(f"/api/v1/executions/{execution_id}/cancel", headers=headers)

    response = await asyncio.wait_for(stream, timeout=10)

    assert cancelled.status_code == 202

    events = parse_sse(response.text)
    assert (events[-1][0], events[-1][1]["status"]) == ("execution.failed", "cancelled")
    execution = await _execution(http, headers, execution_id)
    assert execution["status"] == "cancelled"
    messages = await messages_of(http, headers, execution["conversation_id"])
    assert messages[-1]["incomplete"]
    # What streamed before the cancel is kept (at least the first delta, however busy).
    assert messages[-1]["content"].startswith("word")


async def _chat(http: httpx.AsyncClient, headers: dict[str, str], agent_id: str) -> httpx.Response:
    body = {"model": agent_id, "messages": [{"role": "user", "content": "hi"}]}
    return await http.post("/v1/chat/completions", json=body, headers=headers)


async def test_chat_completions_pass_on_a_provider_rate_limit_as_429(
    http: httpx.AsyncClient, headers: dict[str, str], agent_id: str, fake_provider: FakeProvider
) -> None:
    fake_provider.queue(Status(429, retry_after=7))

    response = await _chat(http, headers, agent_id)

    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 1
    assert response.json()["error"]["type"] == "rate_limit_error"
    assert response.json()["error"]["code"] == "provider.rate_limited"
    assert len(fake_provider.requests) == 1


@pytest.mark.parametrize("call_timeout", [1.0])
async def test_chat_completions_answer_504_when_the_provider_misses_its_deadline(
    http: httpx.AsyncClient, headers: dict[str, str], agent_id: str, fake_provider: FakeProvider
) -> None:
    fake_provider.queue(Hang(seconds=30))

    response = await _chat(http, headers, agent_id)

    assert response.status_code == 504
    assert response.json()["error"]["code"] == "provider.timeout"


async def test_chat_completions_answer_502_for_a_malformed_reply(
    http: httpx.AsyncClient, headers: dict[str, str], agent_id: str, fake_provider: FakeProvider
) -> None:
    fake_provider.queue(Raw())

    response = await _chat(http, headers, agent_id)

    assert response.status_code == 502
    assert response.json()["error"]["code"] == "provider.bad_response"
    assert len(fake_provider.requests) == 1
