"""The Anthropic adapter on the real SDK, with the vendor replaced by a fake server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
from tests.ai.providers.anthropic_wire import (
    MESSAGE_START,
    MODEL,
    AnthropicWire,
    block_delta,
    block_start,
    block_stop,
    message_body,
    message_end,
)
from tests.ai.providers.conftest import FakeServer, sse
from tests.ai.providers.contract import TextArgumentsContract, collect
from tests.support.settings import settings_from

PROJECT_ROOT = Path(__file__).resolve().parents[3]
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
    tool_use: dict[str, object] = {
        "type": "tool_use",
        "id": "toolu_01",
        "name": "calculator",
        "input": {},
    }
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
    return settings_from({"environment": "test", **fields})


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


class TestContract(TextArgumentsContract):
    wire = AnthropicWire()
