"""The scripted provider: honest, offline, deterministic, and steerable from a message."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from app.ai.providers.base import (
    ChatMessage,
    Completion,
    CompletionRequest,
    FinishReason,
    ProviderError,
    ProviderErrorKind,
    Role,
    StreamCompleted,
    StreamEvent,
    TextDelta,
    ToolCall,
    Usage,
)
from app.ai.providers.scripted import ScriptedProvider
from tests.support.waiting import suspended_in, wait_for


def ask(*messages: ChatMessage) -> CompletionRequest:
    return CompletionRequest(model="scripted", messages=messages)


def user(text: str) -> ChatMessage:
    return ChatMessage(Role.USER, text)


async def collect(events: AsyncIterator[StreamEvent]) -> list[StreamEvent]:
    return [event async for event in events]


async def test_it_echoes_the_user_and_says_it_is_scripted() -> None:
    request = ask(ChatMessage(Role.SYSTEM, "Be brief."), user("hello there"))

    completion = await ScriptedProvider().complete(request)

    assert completion == Completion(
        content="[scripted] hello there",
        model="scripted",
        usage=Usage(input_tokens=4, output_tokens=3),
        finish_reason=FinishReason.STOP,
    )


async def test_same_request_same_reply() -> None:
    request = ask(user('What is 6*7?\n!tool calculator {"expression": "6*7"}'))

    assert await ScriptedProvider().complete(request) == await ScriptedProvider().complete(request)


async def test_tool_directives_become_calls_in_one_turn() -> None:
    request = ask(user('Compute this.\n!tool calculator {"expression": "6*7"}\n!tool current_time'))

    completion = await ScriptedProvider().complete(request)

    assert completion.content.startswith("[scripted]")
    assert completion.finish_reason is FinishReason.TOOL_CALLS
    assert completion.tool_calls == (
        ToolCall(id="call_1", name="calculator", arguments={"expression": "6*7"}),
        ToolCall(id="call_2", name="current_time", arguments={}),
    )


async def test_tool_results_end_the_loop() -> None:
    call = ToolCall(id="call_1", name="calculator", arguments={"expression": "6*7"})
    request = ask(
        user('!tool calculator {"expression": "6*7"}'),
        ChatMessage(Role.ASSISTANT, "[scripted] calling calculator", tool_calls=(call,)),
        ChatMessage(Role.TOOL, "42", tool_call_id="call_1"),
    )

    completion = await ScriptedProvider().complete(request)

    assert completion.content == "[scripted] calculator -> 42"
    assert completion.finish_reason is FinishReason.STOP
    assert completion.tool_calls == ()


async def test_directives_act_only_right_after_the_user() -> None:
    request = ask(
        user("!tool calculator {}\n!error rate_limited"),
        ChatMessage(Role.ASSISTANT, "[scripted] done"),
    )

    completion = await ScriptedProvider().complete(request)

    assert completion.tool_calls == ()
    assert completion.content == "[scripted]"


@pytest.mark.parametrize("kind", list(ProviderErrorKind))
async def test_error_directive_raises_that_kind(kind: ProviderErrorKind) -> None:
    with pytest.raises(ProviderError) as caught:
        await ScriptedProvider().complete(ask(user(f"!error {kind.value}")))

    assert caught.value.kind is kind
    assert caught.value.provider == "scripted"


async def test_an_error_directive_can_ask_for_a_retry_after_wait() -> None:
    with pytest.raises(ProviderError) as caught:
        await ScriptedProvider().complete(ask(user("!error rate_limited 7.5")))

    assert caught.value.kind is ProviderErrorKind.RATE_LIMITED
    assert caught.value.retry_after == 7.5


@pytest.mark.parametrize("raw", ["{not json", "[1]"])
async def test_broken_tool_arguments_are_passed_on_marked_like_a_models(raw: str) -> None:
    completion = await ScriptedProvider().complete(ask(user(f"!tool calculator {raw}")))

    (call,) = completion.tool_calls
    assert completion.finish_reason is FinishReason.TOOL_CALLS
    assert (call.name, call.arguments, call.raw_arguments) == ("calculator", {}, raw)
    assert call.arguments_error


@pytest.mark.parametrize(
    "directive",
    ["!error nonsense", "!error rate_limited soon", "!tool", "!sleep soon"],
)
async def test_a_broken_directive_is_a_bad_request(directive: str) -> None:
    with pytest.raises(ProviderError) as caught:
        await ScriptedProvider().complete(ask(user(directive)))

    assert caught.value.kind is ProviderErrorKind.BAD_REQUEST


async def test_sleep_directive_waits_and_can_be_cancelled() -> None:
    task = asyncio.create_task(ScriptedProvider().complete(ask(user("!sleep 30\nslow"))))
    await wait_for(lambda: suspended_in(task, "sleep"), message="the provider never slept")
    assert not task.done()

    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task


async def test_short_sleep_then_answer() -> None:
    completion = await ScriptedProvider().complete(ask(user("!sleep 0.01\nawake")))

    assert completion.content == "[scripted] awake"


async def test_stream_yields_words_then_exactly_one_completion() -> None:
    events = await collect(ScriptedProvider().stream(ask(user("one two  three"))))

    *deltas, last = events
    assert all(isinstance(delta, TextDelta) for delta in deltas)
    assert [delta.text for delta in deltas if isinstance(delta, TextDelta)] == [
        "[scripted] ",
        "one ",
        "two  ",
        "three",
    ]
    assert isinstance(last, StreamCompleted)
    assert last.completion.content == "[scripted] one two  three"


async def test_stream_of_a_tool_turn_carries_the_calls_in_the_completion() -> None:
    events = await collect(ScriptedProvider().stream(ask(user("!tool current_time"))))

    assert isinstance(events[-1], StreamCompleted)
    assert events[-1].completion.tool_calls == (ToolCall("call_1", "current_time", {}),)
    assert sum(isinstance(event, StreamCompleted) for event in events) == 1


async def test_a_script_is_replayed_in_order_and_records_requests() -> None:
    first = Completion(content="first", model="m")
    failure = ProviderError("scripted", ProviderErrorKind.UNAVAILABLE, "down")
    provider = ScriptedProvider(script=[first, failure])

    assert await provider.complete(ask(user("a"))) is first
    with pytest.raises(ProviderError) as caught:
        await provider.complete(ask(user("b")))
    assert caught.value is failure
    with pytest.raises(ProviderError, match="no reply left"):
        await provider.complete(ask(user("c")))

    assert [request.messages[-1].content for request in provider.requests] == ["a", "b", "c"]


async def test_embeddings_are_stable_and_distinct() -> None:
    provider = ScriptedProvider()

    first, again, other = await provider.embed(["cat", "cat", "dog"])

    assert first == again
    assert first != other
    assert len(first) == 16
