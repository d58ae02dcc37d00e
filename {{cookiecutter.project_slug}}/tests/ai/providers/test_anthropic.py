"""The Anthropic adapter on the real SDK, with the vendor replaced by a fake server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

import pytest

from app.ai.providers.anthropic import DEFAULT_MAX_TOKENS, AnthropicProvider
from app.ai.providers.base import (
    ChatMessage,
    Completion,
    CompletionRequest,
    FinishReason,
    ProviderError,
    ProviderErrorKind,
    Role,
    StreamCompleted,
    TextDelta,
    ToolCall,
    ToolDefinition,
    Usage,
)
from app.ai.providers.factory import ProviderFactory
from app.ai.providers.registry import ProviderNotConfiguredError
from app.core.config import Settings
from tests.ai.providers.conftest import FakeServer, sse
from tests.ai.providers.contract import TextArgumentsContract, Wire, collect
from tests.support.fake_replies import Events, Json, Raw, Reply, sse_frame

PROJECT_ROOT = Path(__file__).resolve().parents[3]
MODEL = "claude-haiku-4-5-20251001"
CALCULATOR = ToolDefinition(
    name="calculator",
    description="Evaluate an arithmetic expression",
    parameters={
        "type": "object",
        "properties": {"expression": {"type": "string"}},
        "required": ["expression"],
    },
)
QUESTION = CompletionRequest(
    model="claude-haiku-4-5",
    messages=(
        ChatMessage(Role.SYSTEM, "You are terse."),
        ChatMessage(Role.USER, "What is 6*7?"),
    ),
)


def message_body(
    content: list[dict[str, object]], stop_reason: str = "end_turn"
) -> dict[str, object]:
    return {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": 25, "output_tokens": 7},
    }


MESSAGE_START = (
    "message_start",
    {
        "type": "message_start",
        "message": {
            "id": "msg_01",
            "type": "message",
            "role": "assistant",
            "model": MODEL,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 25, "output_tokens": 1},
        },
    },
)


def block_start(index: int, block: dict[str, object]) -> tuple[str, dict[str, object]]:
    return (
        "content_block_start",
        {"type": "content_block_start", "index": index, "content_block": block},
    )


def block_delta(index: int, delta: dict[str, object]) -> tuple[str, dict[str, object]]:
    return ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})


def block_stop(index: int) -> tuple[str, dict[str, object]]:
    return ("content_block_stop", {"type": "content_block_stop", "index": index})


def message_end(stop_reason: str, output_tokens: int) -> list[tuple[str, dict[str, object]]]:
    return [
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                "usage": {"output_tokens": output_tokens},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]


@pytest.fixture(autouse=True)
def _no_endpoint_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK reads these variables; a developer's shell must not move the endpoint."""
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)


def provider(server: FakeServer, *, retries: int = 0) -> AnthropicProvider:
    return AnthropicProvider(
        api_key="sk-ant-test", timeout=5, max_retries=retries, http_client=server.client()
    )


async def test_complete_separates_the_system_prompt(server: FakeServer) -> None:
    server.reply(json_body=message_body([{"type": "text", "text": "42"}]))

    completion = await provider(server).complete(QUESTION)

    assert completion == Completion(
        content="42",
        model=MODEL,
        usage=Usage(input_tokens=25, output_tokens=7),
        finish_reason=FinishReason.STOP,
    )
    request = server.requests[0]
    assert request.url == "https://api.anthropic.com/v1/messages"
    # The SDK picks the header (x-api-key or a bearer token); either must carry the key.
    credentials = (request.headers.get("x-api-key"), request.headers.get("authorization"))
    assert "sk-ant-test" in credentials or "Bearer sk-ant-test" in credentials
    body = server.body()
    assert body["system"] == "You are terse."
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "What is 6*7?"}]}
    ]
    assert body["max_tokens"] == DEFAULT_MAX_TOKENS
    assert "temperature" not in body
    assert "tools" not in body


async def test_temperature_and_max_tokens_are_sent_when_set(server: FakeServer) -> None:
    server.reply(json_body=message_body([{"type": "text", "text": "ok"}]))
    request = CompletionRequest(
        model="claude-haiku-4-5", messages=QUESTION.messages, temperature=0.3, max_tokens=64
    )

    await provider(server).complete(request)

    assert server.body()["temperature"] == 0.3
    assert server.body()["max_tokens"] == 64


async def test_tool_schema_is_sent_and_tool_use_is_normalized(server: FakeServer) -> None:
    server.reply(
        json_body=message_body(
            [
                {"type": "text", "text": "Let me calculate."},
                {
                    "type": "tool_use",
                    "id": "toolu_01",
                    "name": "calculator",
                    "input": {"expression": "6*7"},
                },
            ],
            stop_reason="tool_use",
        )
    )
    request = CompletionRequest(
        model="claude-haiku-4-5", messages=QUESTION.messages, tools=(CALCULATOR,)
    )

    completion = await provider(server).complete(request)

    assert completion.content == "Let me calculate."
    assert completion.finish_reason is FinishReason.TOOL_CALLS
    assert completion.tool_calls == (
        ToolCall(id="toolu_01", name="calculator", arguments={"expression": "6*7"}),
    )
    assert server.body()["tools"] == [
        {
            "name": "calculator",
            "description": "Evaluate an arithmetic expression",
            "input_schema": CALCULATOR.parameters,
        }
    ]


async def test_tool_results_travel_as_tool_result_blocks_in_one_user_turn(
    server: FakeServer,
) -> None:
    server.reply(json_body=message_body([{"type": "text", "text": "42, and it is noon."}]))
    calls = (
        ToolCall(id="toolu_01", name="calculator", arguments={"expression": "6*7"}),
        ToolCall(id="toolu_02", name="clock", arguments={}),
    )
    request = CompletionRequest(
        model="claude-haiku-4-5",
        messages=(
            *QUESTION.messages,
            ChatMessage(Role.ASSISTANT, "Let me check.", tool_calls=calls),
            ChatMessage(Role.TOOL, "42", tool_call_id="toolu_01", name="calculator"),
            ChatMessage(Role.TOOL, "12:00", tool_call_id="toolu_02", name="clock"),
        ),
        tools=(CALCULATOR,),
    )

    await provider(server).complete(request)

    assert server.body()["messages"][1:] == [
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Let me check."},
                {
                    "type": "tool_use",
                    "id": "toolu_01",
                    "name": "calculator",
                    "input": {"expression": "6*7"},
                },
                {"type": "tool_use", "id": "toolu_02", "name": "clock", "input": {}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_01", "content": "42"},
                {"type": "tool_result", "tool_use_id": "toolu_02", "content": "12:00"},
            ],
        },
    ]


async def test_stream_yields_text_then_one_completion_with_usage(server: FakeServer) -> None:
    server.reply_stream(
        sse(
            MESSAGE_START,
            block_start(0, {"type": "text", "text": ""}),
            ("ping", {"type": "ping"}),
            block_delta(0, {"type": "text_delta", "text": "Forty"}),
            block_delta(0, {"type": "text_delta", "text": "-two"}),
            block_stop(0),
            *message_end("end_turn", 6),
        )
    )

    events = await collect(provider(server).stream(QUESTION))

    assert events == [
        TextDelta("Forty"),
        TextDelta("-two"),
        StreamCompleted(
            Completion(
                content="Forty-two", model=MODEL, usage=Usage(input_tokens=25, output_tokens=6)
            )
        ),
    ]
    assert server.body()["stream"] is True


async def test_stream_assembles_tool_input_from_json_deltas(server: FakeServer) -> None:
    tool_use = {"type": "tool_use", "id": "toolu_01", "name": "calculator", "input": {}}
    server.reply_stream(
        sse(
            MESSAGE_START,
            block_start(0, {"type": "text", "text": ""}),
            block_delta(0, {"type": "text_delta", "text": "Calculating."}),
            block_stop(0),
            block_start(1, tool_use),
            block_delta(1, {"type": "input_json_delta", "partial_json": ""}),
            block_delta(1, {"type": "input_json_delta", "partial_json": '{"expression": '}),
            block_delta(1, {"type": "input_json_delta", "partial_json": '"6*7"}'}),
            block_stop(1),
            block_start(2, {"type": "tool_use", "id": "toolu_02", "name": "clock", "input": {}}),
            block_stop(2),
            *message_end("tool_use", 40),
        )
    )

    events = await collect(provider(server).stream(QUESTION))

    assert events[0] == TextDelta("Calculating.")
    assert isinstance(events[-1], StreamCompleted)
    completion = events[-1].completion
    assert completion.finish_reason is FinishReason.TOOL_CALLS
    assert completion.tool_calls == (
        ToolCall(id="toolu_01", name="calculator", arguments={"expression": "6*7"}),
        ToolCall(id="toolu_02", name="clock", arguments={}),
    )
    assert completion.usage == Usage(input_tokens=25, output_tokens=40)


async def test_error_event_inside_a_stream_keeps_its_kind(server: FakeServer) -> None:
    server.reply_stream(
        sse(
            MESSAGE_START,
            block_start(0, {"type": "text", "text": ""}),
            block_delta(0, {"type": "text_delta", "text": "Par"}),
            (
                "error",
                {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
            ),
        )
    )

    with pytest.raises(ProviderError) as caught:
        await collect(provider(server).stream(QUESTION))

    assert caught.value.kind is ProviderErrorKind.UNAVAILABLE


async def test_embeddings_are_not_offered(server: FakeServer) -> None:
    with pytest.raises(ProviderError) as caught:
        await provider(server).embed(["text"])

    assert caught.value.kind is ProviderErrorKind.BAD_REQUEST
    assert server.requests == []


def settings(**values: object) -> Settings:
    """Settings from these values alone, whatever the environment holds."""
    fields: dict[str, object] = {"anthropic_api_key": None, **values}
    return Settings(_env_file=None, environment="test", **fields)  # type: ignore[call-arg]


def test_factory_offers_anthropic_only_with_a_key() -> None:
    assert "anthropic" not in ProviderFactory(settings()).available()
    assert "anthropic" not in ProviderFactory(settings(anthropic_api_key="")).available()
    assert "anthropic" in ProviderFactory(settings(anthropic_api_key="sk-ant")).available()


def test_factory_names_the_setting_to_add() -> None:
    with pytest.raises(ProviderNotConfiguredError) as caught:
        ProviderFactory(settings()).get("anthropic")

    assert caught.value.status_code == 422
    assert "ANTHROPIC_API_KEY" in caught.value.detail


async def test_factory_builds_one_anthropic_provider_with_its_default_model() -> None:
    factory = ProviderFactory(
        settings(anthropic_api_key="sk-ant", anthropic_default_model="claude-haiku-4-5")
    )

    assert isinstance(factory.get("anthropic"), AnthropicProvider)
    assert factory.get("anthropic") is factory.get("anthropic")
    assert factory.default_model("anthropic") == "claude-haiku-4-5"
    await factory.aclose()


def test_sdk_is_imported_on_first_use_only() -> None:
    script = (
        "import sys\n"
        "from app.ai.providers.factory import ProviderFactory\n"
        "from app.core.config import Settings\n"
        "factory = ProviderFactory(Settings(_env_file=None, anthropic_api_key='sk-ant'))\n"
        "assert 'anthropic' in factory.available()\n"
        "assert 'anthropic' not in sys.modules\n"
        "factory.get('anthropic')\n"
        "assert 'anthropic' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, check=True)  # noqa: S603


def frames(*events: tuple[str, Any]) -> list[object]:
    """Named events as the API streams them."""
    return [sse_frame(data, event=name) for name, data in events]


def broken_reply(**fields: Any) -> Json:
    """A whole message with these top-level fields replaced."""
    return Json({**message_body([{"type": "text", "text": "x"}]), **fields})


def broken_stream(*events: tuple[str, Any]) -> Events:
    """A stream of these events, closed as the API closes a message."""
    return Events(frames(*events, *message_end("end_turn", 3)))


class AnthropicWire(Wire):
    """The Messages API's JSON bodies and named server-sent events."""

    name = "anthropic"
    malformed_replies: ClassVar[dict[str, Reply]] = {
        "no content blocks": Json(
            {key: value for key, value in message_body([]).items() if key != "content"}
        ),
        "content that is not a list": broken_reply(content="hello"),
        "a block without a type": broken_reply(content=["hello"]),
        "no usage": broken_reply(usage=None),
        "a tool_use block without a name": broken_reply(
            content=[{"type": "tool_use", "id": "toolu_1", "input": {}}]
        ),
        "text that is not text": broken_reply(content=[{"type": "text", "text": 42}]),
        "a list instead of an object": Json([1, 2]),
        "a truncated body": Raw(),
        "an HTML page": Raw(b"<html>502 Bad Gateway</html>", "text/html"),
    }
    malformed_streams: ClassVar[dict[str, Reply]] = {
        "message_start without a message": broken_stream(
            ("message_start", {"type": "message_start"})
        ),
        "message_start without usage": broken_stream(
            ("message_start", {"type": "message_start", "message": {"model": MODEL}})
        ),
        "an event before message_start": broken_stream(block_start(0, {"type": "text"})),
        "a block delta without its delta": broken_stream(
            MESSAGE_START, ("content_block_delta", {"type": "content_block_delta", "index": 0})
        ),
        "a message delta without its delta": Events(
            frames(
                MESSAGE_START,
                ("message_delta", {"type": "message_delta", "usage": {"output_tokens": 1}}),
                ("message_stop", {"type": "message_stop"}),
            )
        ),
        "an event that is not an object": broken_stream(("message_start", [1, 2])),
        "an event that is not JSON": Events([b"event: message_start\ndata: {oops\n\n"]),
    }
    keep_alive_frames = (sse_frame({"type": "ping"}, event="ping"),)

    def settings(self, origin: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", origin)
        return {"anthropic_api_key": "sk-ant-test"}

    def reply(self, text: str) -> Any:
        return message_body([{"type": "text", "text": text}])

    def stream(self, text: str, *, finished: bool = True) -> list[object]:
        words = text.split(" ") if text else []
        pieces = [word + " " for word in words[:-1]] + words[-1:]
        events = [
            MESSAGE_START,
            block_start(0, {"type": "text", "text": ""}),
            *(block_delta(0, {"type": "text_delta", "text": piece}) for piece in pieces),
        ]
        if finished:
            events += [block_stop(0), *message_end("end_turn", len(pieces))]
        return frames(*events)

    def tool_call_reply(self, name: str, raw_arguments: str) -> Any:
        try:
            arguments = json.loads(raw_arguments)
        except ValueError:
            arguments = raw_arguments
        # The API sends input as an object; anything else is passed on as text, as sent.
        block_input = arguments if isinstance(arguments, dict) else raw_arguments
        block: dict[str, object] = {"type": "tool_use", "id": "toolu_1", "name": name}
        block["input"] = block_input
        return message_body([block], stop_reason="tool_use")

    def tool_call_stream(self, name: str, raw_arguments: str) -> list[object]:
        half = len(raw_arguments) // 2
        return frames(
            MESSAGE_START,
            block_start(0, {"type": "tool_use", "id": "toolu_1", "name": name, "input": {}}),
            *(
                block_delta(0, {"type": "input_json_delta", "partial_json": part})
                for part in (raw_arguments[:half], raw_arguments[half:])
            ),
            block_stop(0),
            *message_end("tool_use", 9),
        )

    def error(self, status: int) -> Any:
        error_type = ANTHROPIC_ERROR_TYPES.get(status, "api_error")
        return {"type": "error", "error": {"type": error_type, "message": "nope"}}


ANTHROPIC_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
}


class TestContract(TextArgumentsContract):
    wire = AnthropicWire()
