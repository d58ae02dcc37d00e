"""The fake provider itself, driven by a plain HTTP client: other tests rely on each behaviour."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.support.fake_provider import FakeProvider
from tests.support.fake_replies import (
    CutStream,
    Hang,
    KeepAlive,
    MissingFields,
    Raw,
    Status,
    Text,
    ToolCalls,
)

ASK = {"model": "fake-model", "messages": [{"role": "user", "content": "Hi"}]}
ASK_STREAM = {**ASK, "stream": True, "stream_options": {"include_usage": True}}


@pytest.fixture(autouse=True)
def _clean_state() -> None:
    """These tests touch no database, so the suite-wide table cleanup is skipped."""


@pytest.fixture
async def http(fake_provider: FakeProvider) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=fake_provider.url, timeout=5) as client:
        yield client


async def events(response: httpx.Response) -> AsyncIterator[Any]:
    """The `data:` payloads of a stream, decoded, as they arrive."""
    async for line in response.aiter_lines():
        if line.startswith("data: "):
            payload = line.removeprefix("data: ")
            yield payload if payload == "[DONE]" else json.loads(payload)


async def test_text_is_a_chat_completion_whole_or_streamed(
    http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    fake_provider.always(Text("Forty two"))

    whole = (await http.post("/chat/completions", json=ASK)).json()
    async with http.stream("POST", "/chat/completions", json=ASK_STREAM) as response:
        streamed = [event async for event in events(response)]

    assert whole["choices"][0]["message"]["content"] == "Forty two"
    assert whole["choices"][0]["finish_reason"] == "stop"
    assert whole["usage"]["total_tokens"] > 0
    text = "".join(
        event["choices"][0]["delta"].get("content") or ""
        for event in streamed[:-1]
        if event["choices"]
    )
    assert text == "Forty two"
    assert [event["choices"][0]["finish_reason"] for event in streamed[-3:-2]] == ["stop"]
    assert streamed[-2]["usage"]["total_tokens"] > 0
    assert streamed[-1] == "[DONE]"


async def test_a_stream_is_sent_while_the_reply_is_still_being_written(
    http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    release = threading.Event()
    fake_provider.queue(Text("first then the rest", release=release))

    async with asyncio.timeout(5):
        async with http.stream("POST", "/chat/completions", json=ASK_STREAM) as response:
            received = events(response)
            opening, first = await anext(received), await anext(received)
            # The server is blocked until the test releases it, so these arrived on their own.
            assert opening["choices"][0]["delta"]["role"] == "assistant"
            assert first["choices"][0]["delta"]["content"] == "first "
            release.set()
            rest = [event async for event in received]

    assert rest[-1] == "[DONE]"


async def test_queued_replies_come_first_then_the_scenario(
    http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    fake_provider.queue(Status(429, retry_after=7))
    fake_provider.always(ToolCalls(("calculator", '{"expression": 6*7'), ("no_such_tool", "{}")))

    limited = await http.post("/chat/completions", json=ASK)
    first = (await http.post("/chat/completions", json=ASK)).json()
    second = (await http.post("/chat/completions", json={**ASK, "model": "other"})).json()

    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "7"
    calls = first["choices"][0]["message"]["tool_calls"]
    assert [call["function"] for call in calls] == [
        {"name": "calculator", "arguments": '{"expression": 6*7'},
        {"name": "no_such_tool", "arguments": "{}"},
    ]
    assert first["choices"][0]["finish_reason"] == "tool_calls"
    other_ids = {call["id"] for call in second["choices"][0]["message"]["tool_calls"]}
    assert not other_ids & {call["id"] for call in calls}
    assert len(fake_provider.requests) == 3
    assert [body["model"] for body in fake_provider.bodies()] == ["fake-model"] * 2 + ["other"]
    assert fake_provider.requests[0].path == "/v1/chat/completions"


async def test_streamed_tool_call_arguments_arrive_in_fragments(
    http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    fake_provider.queue(ToolCalls(("calculator", '{"expression": "6*7"}')))

    async with http.stream("POST", "/chat/completions", json=ASK_STREAM) as response:
        streamed = [event async for event in events(response)]

    fragments = [
        fragment["function"].get("arguments", "")
        for event in streamed[:-1]
        if event["choices"]
        for fragment in event["choices"][0]["delta"].get("tool_calls", ())
    ]
    assert len([fragment for fragment in fragments if fragment]) == 2
    assert "".join(fragments) == '{"expression": "6*7"}'


@pytest.mark.parametrize(
    ("fields", "absent"),
    [(("choices",), "choices"), (("usage",), "usage"), (("message",), "message")],
)
async def test_missing_fields_are_left_out_of_whole_replies(
    http: httpx.AsyncClient,
    fake_provider: FakeProvider,
    fields: tuple[str, ...],
    absent: str,
) -> None:
    fake_provider.queue(MissingFields(*fields))

    body = (await http.post("/chat/completions", json=ASK)).json()

    assert absent not in json.dumps(body)


async def test_missing_delta_and_finish_reason_are_left_out_of_streams(
    http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    fake_provider.queue(MissingFields("message", "finish_reason"))

    async with http.stream("POST", "/chat/completions", json=ASK_STREAM) as response:
        streamed = [event async for event in events(response)]

    assert streamed[-1] == "[DONE]"
    for event in streamed[:-1]:
        for choice in event["choices"]:
            assert set(choice) == {"index"}


async def test_a_malformed_body_is_sent_as_is(
    http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    fake_provider.queue(Raw(b"<html>502 Bad Gateway</html>", "text/html"))

    response = await http.post("/chat/completions", json=ASK)

    assert response.status_code == 200
    assert response.text == "<html>502 Bad Gateway</html>"


async def test_a_cut_stream_drops_the_connection_mid_reply(
    http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    fake_provider.queue(CutStream(pieces=2))
    received: list[Any] = []

    with pytest.raises(httpx.RemoteProtocolError):
        async with http.stream("POST", "/chat/completions", json=ASK_STREAM) as response:
            received.extend([event async for event in events(response)])

    assert len(received) <= 2


async def test_keep_alives_never_finish_the_stream(
    http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    fake_provider.queue(KeepAlive(interval=0.01, count=6))

    async with http.stream("POST", "/chat/completions", json=ASK_STREAM) as response:
        lines = [line async for line in response.aiter_lines() if line]

    data = [json.loads(line.removeprefix("data: ")) for line in lines if line != ": keep-alive"]
    assert lines.count(": keep-alive") == 3
    assert len(data) == 4  # the opening chunk and three empty ones
    assert all(choice["finish_reason"] is None for event in data for choice in event["choices"])


async def test_an_endless_keep_alive_lasts_until_the_client_leaves(
    http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    fake_provider.queue(KeepAlive(interval=0.01))
    seen = 0

    async with http.stream("POST", "/chat/completions", json=ASK_STREAM) as response:
        async for line in response.aiter_lines():
            seen += line == ": keep-alive"
            if seen == 20:
                break

    assert seen == 20


async def test_a_hang_outlasts_the_client_timeout(
    http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    fake_provider.queue(Hang())

    with pytest.raises(httpx.ReadTimeout):
        await http.post("/chat/completions", json=ASK, timeout=0.2)

    assert len(fake_provider.requests) == 1


async def test_stopping_releases_a_hanging_reply() -> None:
    fake = FakeProvider().start()
    fake.queue(Hang(seconds=60))
    async with httpx.AsyncClient(base_url=fake.url, timeout=30) as client:
        pending = asyncio.create_task(client.post("/chat/completions", json=ASK))
        await asyncio.to_thread(fake.wait_for_requests, 1)

        await asyncio.to_thread(fake.stop)

        with pytest.raises(httpx.RemoteProtocolError):
            await pending
