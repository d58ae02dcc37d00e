"""The OpenAI adapter on the real SDK, with the vendor replaced by a fake server.

The contract suite and the tests at the end talk to the fake OpenAI-compatible server over
loopback through `base_url`, exactly as the adapter reaches Ollama or vLLM; the others fake
the network at the httpx2 transport.
"""

from __future__ import annotations

import asyncio
import base64
import struct
import subprocess
import sys
import threading
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
from tests.ai.providers.contract import QUESTION as CONTRACT_QUESTION
from tests.ai.providers.contract import TextArgumentsContract, collect
from tests.ai.providers.openai_wire import USAGE_CHUNK, OpenAIWire, chunk, completion_body
from tests.support.fake_provider import FakeProvider
from tests.support.fake_replies import (
    Events,
    KeepAlive,
    Text,
    usage_chunk,
)
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
    model="gpt-4o-mini",
    messages=(
        ChatMessage(Role.SYSTEM, "You are terse."),
        ChatMessage(Role.USER, "What is 6*7?"),
    ),
)


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
    return settings_from({"environment": "test", **fields})


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


class TestContract(TextArgumentsContract):
    wire = OpenAIWire()


def local_provider(fake: FakeProvider, *, timeout: float = 5) -> OpenAIProvider:
    """The adapter as the factory builds it for a local server: a base URL and no key."""
    return OpenAIProvider(api_key=None, base_url=fake.url, timeout=timeout, max_retries=0)


async def test_a_local_server_gets_the_request_it_expects(fake_provider: FakeProvider) -> None:
    request = CompletionRequest(model="llama3.2", messages=QUESTION.messages, max_tokens=50)
    provider = local_provider(fake_provider)

    await provider.complete(request)
    await collect(provider.stream(request))
    await provider.aclose()

    whole, streamed = fake_provider.requests
    assert whole.path == streamed.path == "/v1/chat/completions"
    assert whole.headers["authorization"] == "Bearer not-needed"
    assert whole.json["max_tokens"] == 50
    assert "max_completion_tokens" not in whole.json
    assert streamed.json["stream_options"] == {"include_usage": True}


async def test_streamed_text_arrives_while_the_reply_is_still_being_written(
    fake_provider: FakeProvider,
) -> None:
    release = threading.Event()
    fake_provider.queue(Text("first and then the rest", release=release))
    provider = local_provider(fake_provider)

    async with asyncio.timeout(5):
        events = provider.stream(CONTRACT_QUESTION)
        first = await anext(events)
        # The server holds the rest until the test releases it: this delta came on its own.
        release.set()
        rest = [event async for event in events]
    await provider.aclose()

    assert first == TextDelta("first ")
    assert isinstance(rest[-1], StreamCompleted)
    assert rest[-1].completion.content == "first and then the rest"


async def test_a_stream_without_choices_or_finish_reason_is_not_an_empty_reply(
    fake_provider: FakeProvider,
) -> None:
    fake_provider.queue(Events([usage_chunk(), "[DONE]"]))
    provider = local_provider(fake_provider)

    with pytest.raises(ProviderError) as caught:
        await collect(provider.stream(CONTRACT_QUESTION))
    await provider.aclose()

    assert caught.value.kind is ProviderErrorKind.INCOMPLETE


async def test_an_endless_keep_alive_never_completes_on_its_own(
    fake_provider: FakeProvider,
) -> None:
    """Only a deadline above the adapter ends such a stream; the adapter never invents a reply."""
    fake_provider.queue(KeepAlive(interval=0.01))
    provider = local_provider(fake_provider, timeout=0.2)
    seen: list[StreamEvent] = []

    async def read() -> None:
        async for event in provider.stream(CONTRACT_QUESTION):
            seen.append(event)

    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.5):
            await read()
    await provider.aclose()

    assert seen == []
    assert len(fake_provider.requests) == 1
