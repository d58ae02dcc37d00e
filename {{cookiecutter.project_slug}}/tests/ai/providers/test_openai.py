"""The OpenAI adapter on the real SDK, with the vendor replaced by a fake server."""

from __future__ import annotations

import base64
import struct
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

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
    ToolDefinition,
    Usage,
)
from app.ai.providers.factory import ProviderFactory
from app.ai.providers.openai import OpenAIProvider
from app.ai.providers.registry import ProviderNotConfiguredError
from app.core.config import Settings
from tests.ai.providers.conftest import FakeServer, sse

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
    model="gpt-4o-mini",
    messages=(
        ChatMessage(Role.SYSTEM, "You are terse."),
        ChatMessage(Role.USER, "What is 6*7?"),
    ),
)


def completion_body(message: dict[str, object], finish_reason: str = "stop") -> dict[str, object]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "refusal": None, **message},
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
        "usage": {"prompt_tokens": 21, "completion_tokens": 5, "total_tokens": 26},
    }


def chunk(delta: dict[str, object], finish_reason: str | None = None) -> dict[str, object]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
    }


USAGE_CHUNK = {
    "id": "chatcmpl-1",
    "object": "chat.completion.chunk",
    "created": 1_700_000_000,
    "model": "gpt-4o-mini-2024-07-18",
    "choices": [],
    "usage": {"prompt_tokens": 21, "completion_tokens": 2, "total_tokens": 23},
}


@pytest.fixture(autouse=True)
def _no_endpoint_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK reads these variables; a developer's shell must not move the endpoint."""
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


def provider(
    server: FakeServer, *, base_url: str | None = None, retries: int = 0
) -> OpenAIProvider:
    return OpenAIProvider(
        api_key=None if base_url else "sk-test",
        base_url=base_url,
        timeout=5,
        max_retries=retries,
        http_client=server.client(),
    )


async def collect(events: AsyncIterator[StreamEvent]) -> list[StreamEvent]:
    return [event async for event in events]


async def test_complete_returns_text_usage_and_model(server: FakeServer) -> None:
    server.reply(json_body=completion_body({"content": "42"}))

    completion = await provider(server).complete(QUESTION)

    assert completion == Completion(
        content="42",
        model="gpt-4o-mini-2024-07-18",
        usage=Usage(input_tokens=21, output_tokens=5),
        finish_reason=FinishReason.STOP,
    )
    request = server.requests[0]
    assert request.url == "https://api.openai.com/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-test"
    assert server.body()["messages"] == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "What is 6*7?"},
    ]
    assert "tools" not in server.body()


async def test_options_are_sent_only_when_set(server: FakeServer) -> None:
    server.reply(json_body=completion_body({"content": "ok"}))
    request = CompletionRequest(
        model="gpt-4o-mini", messages=QUESTION.messages, temperature=0.2, max_tokens=50
    )

    await provider(server).complete(request)

    body = server.body()
    assert body["temperature"] == 0.2
    assert body["max_completion_tokens"] == 50
    assert "max_tokens" not in body


async def test_local_server_needs_no_key_and_gets_max_tokens(server: FakeServer) -> None:
    server.reply(json_body=completion_body({"content": "hi from llama"}))
    request = CompletionRequest(model="llama3.2", messages=QUESTION.messages, max_tokens=50)

    completion = await provider(server, base_url="http://localhost:11434/v1").complete(request)

    assert completion.content == "hi from llama"
    sent = server.requests[0]
    assert sent.url == "http://localhost:11434/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer not-needed"
    assert server.body()["max_tokens"] == 50


async def test_tool_schema_is_sent_and_tool_calls_are_normalized(server: FakeServer) -> None:
    server.reply(
        json_body=completion_body(
            {
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_abc",
                        "type": "function",
                        "function": {"name": "calculator", "arguments": '{"expression": "6*7"}'},
                    }
                ],
            },
            finish_reason="tool_calls",
        )
    )
    request = CompletionRequest(
        model="gpt-4o-mini", messages=QUESTION.messages, tools=(CALCULATOR,)
    )

    completion = await provider(server).complete(request)

    assert completion.finish_reason is FinishReason.TOOL_CALLS
    assert completion.tool_calls == (
        ToolCall(id="call_abc", name="calculator", arguments={"expression": "6*7"}),
    )
    assert server.body()["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "calculator",
                "description": "Evaluate an arithmetic expression",
                "parameters": CALCULATOR.parameters,
            },
        }
    ]


async def test_tool_results_travel_in_openai_format(server: FakeServer) -> None:
    server.reply(json_body=completion_body({"content": "6*7 is 42"}))
    call = ToolCall(id="call_abc", name="calculator", arguments={"expression": "6*7"})
    request = CompletionRequest(
        model="gpt-4o-mini",
        messages=(
            *QUESTION.messages,
            ChatMessage(Role.ASSISTANT, "", tool_calls=(call,)),
            ChatMessage(Role.TOOL, "42", tool_call_id="call_abc", name="calculator"),
        ),
        tools=(CALCULATOR,),
    )

    completion = await provider(server).complete(request)

    assert completion.content == "6*7 is 42"
    assert server.body()["messages"][2:] == [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_abc",
                    "type": "function",
                    "function": {"name": "calculator", "arguments": '{"expression": "6*7"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_abc", "content": "42"},
    ]


async def test_stream_yields_text_then_one_completion_with_usage(server: FakeServer) -> None:
    server.reply_stream(
        sse(
            (None, chunk({"role": "assistant", "content": ""})),
            (None, chunk({"content": "Forty"})),
            (None, chunk({"content": "-two"})),
            (None, chunk({}, finish_reason="stop")),
            (None, USAGE_CHUNK),
            (None, "[DONE]"),
        )
    )

    events = await collect(provider(server).stream(QUESTION))

    assert events == [
        TextDelta("Forty"),
        TextDelta("-two"),
        StreamCompleted(
            Completion(
                content="Forty-two",
                model="gpt-4o-mini-2024-07-18",
                usage=Usage(input_tokens=21, output_tokens=2),
            )
        ),
    ]
    body = server.body()
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}


async def test_stream_assembles_tool_call_fragments(server: FakeServer) -> None:
    first = {
        "index": 0,
        "id": "call_abc",
        "type": "function",
        "function": {"name": "calculator", "arguments": ""},
    }
    second = {"index": 1, "id": "call_def", "type": "function", "function": {"name": "clock"}}
    server.reply_stream(
        sse(
            (None, chunk({"role": "assistant", "content": None, "tool_calls": [first]})),
            (None, chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"expre'}}]})),
            (None, chunk({"tool_calls": [second]})),
            (
                None,
                chunk({"tool_calls": [{"index": 0, "function": {"arguments": 'ssion": "6*7"}'}}]}),
            ),
            (None, chunk({}, finish_reason="tool_calls")),
            (None, USAGE_CHUNK),
            (None, "[DONE]"),
        )
    )

    events = await collect(provider(server).stream(QUESTION))

    assert len(events) == 1
    assert isinstance(events[0], StreamCompleted)
    completion = events[0].completion
    assert completion.finish_reason is FinishReason.TOOL_CALLS
    assert completion.tool_calls == (
        ToolCall(id="call_abc", name="calculator", arguments={"expression": "6*7"}),
        ToolCall(id="call_def", name="clock", arguments={}),
    )


async def test_unparseable_tool_arguments_are_a_bad_response(server: FakeServer) -> None:
    broken = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "calculator", "arguments": "{6*7"},
    }
    server.reply(json_body=completion_body({"content": None, "tool_calls": [broken]}, "tool_calls"))

    with pytest.raises(ProviderError) as caught:
        await provider(server).complete(QUESTION)

    assert caught.value.kind is ProviderErrorKind.BAD_RESPONSE
    assert caught.value.provider == "openai"


async def test_reply_without_choices_is_a_bad_response(server: FakeServer) -> None:
    server.reply(json_body={**completion_body({"content": "x"}), "choices": []})

    with pytest.raises(ProviderError) as caught:
        await provider(server).complete(QUESTION)

    assert caught.value.kind is ProviderErrorKind.BAD_RESPONSE


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (429, ProviderErrorKind.RATE_LIMITED),
        (500, ProviderErrorKind.UNAVAILABLE),
        (503, ProviderErrorKind.UNAVAILABLE),
        (401, ProviderErrorKind.AUTHENTICATION),
        (403, ProviderErrorKind.AUTHENTICATION),
        (400, ProviderErrorKind.BAD_REQUEST),
    ],
)
async def test_http_errors_map_to_kinds_without_extra_retries(
    server: FakeServer, status: int, kind: ProviderErrorKind
) -> None:
    server.reply(status, json_body={"error": {"message": "nope", "type": "x", "code": None}})

    with pytest.raises(ProviderError) as caught:
        await provider(server, retries=0).complete(QUESTION)

    assert caught.value.kind is kind
    assert len(server.requests) == 1


async def test_sdk_retries_are_the_only_retry_layer(server: FakeServer) -> None:
    server.reply(
        429, json_body={"error": {"message": "slow down"}}, headers={"retry-after-ms": "1"}
    )
    server.reply(json_body=completion_body({"content": "42"}))

    completion = await provider(server, retries=1).complete(QUESTION)

    assert completion.content == "42"
    assert len(server.requests) == 2


async def test_timeout_maps_to_timeout(server: FakeServer) -> None:
    server.time_out()

    with pytest.raises(ProviderError) as caught:
        await provider(server).complete(QUESTION)

    assert caught.value.kind is ProviderErrorKind.TIMEOUT


UNREADABLE_REPLIES = [
    (b"<html>502 Bad Gateway</html>", "text/html"),
    (b'{"truncated": ', "application/json"),
    (b'{"unexpected": "shape"}', "application/json"),
]


@pytest.mark.parametrize(("body", "content_type"), UNREADABLE_REPLIES)
async def test_unreadable_reply_is_a_bad_response(
    server: FakeServer, body: bytes, content_type: str
) -> None:
    server.reply_raw(body, content_type)

    with pytest.raises(ProviderError) as caught:
        await provider(server).complete(QUESTION)

    assert caught.value.kind is ProviderErrorKind.BAD_RESPONSE


async def test_empty_stream_is_a_bad_response(server: FakeServer) -> None:
    server.reply_stream(b"")

    with pytest.raises(ProviderError) as caught:
        await collect(provider(server).stream(QUESTION))

    assert caught.value.kind is ProviderErrorKind.BAD_RESPONSE


async def test_stream_cut_off_half_way_is_unavailable(server: FakeServer) -> None:
    server.reply_cut_stream(sse((None, chunk({"content": "Par"}))))

    with pytest.raises(ProviderError) as caught:
        await collect(provider(server).stream(QUESTION))

    assert caught.value.kind is ProviderErrorKind.UNAVAILABLE


async def test_error_inside_a_stream_is_a_provider_error(server: FakeServer) -> None:
    server.reply_stream(
        sse(
            (None, chunk({"content": "Par"})),
            (None, {"error": {"message": "The server had an error", "type": "server_error"}}),
        )
    )

    with pytest.raises(ProviderError) as caught:
        await collect(provider(server).stream(QUESTION))

    assert caught.value.kind is ProviderErrorKind.UNAVAILABLE


def float32_base64(*values: float) -> str:
    """Vectors as the API sends them when the SDK asks for base64."""
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()


async def test_embed_returns_vectors_in_input_order(server: FakeServer) -> None:
    server.reply(
        json_body={
            "object": "list",
            "model": "text-embedding-3-small",
            "data": [
                {"object": "embedding", "index": 1, "embedding": float32_base64(-1.0, 2.0)},
                {"object": "embedding", "index": 0, "embedding": float32_base64(0.5, 0.25)},
            ],
            "usage": {"prompt_tokens": 2, "total_tokens": 2},
        }
    )

    vectors = await provider(server).embed(["first", "second"])

    assert vectors == [[0.5, 0.25], [-1.0, 2.0]]
    assert server.requests[0].url == "https://api.openai.com/v1/embeddings"
    assert server.body()["model"] == "text-embedding-3-small"
    assert server.body()["input"] == ["first", "second"]


def settings(**values: object) -> Settings:
    """Settings from these values alone, whatever the environment holds."""
    fields: dict[str, object] = {"openai_api_key": None, "openai_base_url": None, **values}
    return Settings(_env_file=None, environment="test", **fields)  # type: ignore[call-arg]


def test_factory_offers_openai_with_a_key_or_a_base_url() -> None:
    assert "openai" not in ProviderFactory(settings()).available()
    assert "openai" in ProviderFactory(settings(openai_api_key="sk-test")).available()
    assert (
        "openai"
        in ProviderFactory(settings(openai_base_url="http://localhost:11434/v1")).available()
    )


def test_factory_names_the_setting_to_add() -> None:
    with pytest.raises(ProviderNotConfiguredError) as caught:
        ProviderFactory(settings()).get("openai")

    assert caught.value.status_code == 422
    assert "OPENAI_API_KEY" in caught.value.detail


async def test_factory_builds_one_openai_provider_with_its_default_model() -> None:
    factory = ProviderFactory(settings(openai_api_key="sk-test", openai_default_model="gpt-4.1"))

    assert isinstance(factory.get("openai"), OpenAIProvider)
    assert factory.get("openai") is factory.get("openai")
    assert factory.default_model("openai") == "gpt-4.1"
    await factory.aclose()


def test_sdk_is_imported_on_first_use_only() -> None:
    script = (
        "import sys\n"
        "from app.ai.providers.factory import ProviderFactory\n"
        "from app.core.config import Settings\n"
        "factory = ProviderFactory(Settings(_env_file=None, openai_api_key='sk-test'))\n"
        "assert 'openai' in factory.available()\n"
        "assert 'openai' not in sys.modules\n"
        "factory.get('openai')\n"
        "assert 'openai' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, check=True)  # noqa: S603
