"""The Gemini adapter on the real google-genai SDK, with the vendor replaced by a fake server."""

from __future__ import annotations

import base64
import subprocess
import sys
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
    TextDelta,
    ToolCall,
    ToolDefinition,
    Usage,
)
from app.ai.providers.factory import ProviderFactory
from app.ai.providers.gemini import SKIP_SIGNATURE, GeminiProvider
from app.ai.providers.registry import ProviderNotConfiguredError
from app.core.config import Settings
from tests.ai.providers.conftest import FakeServer, sse
from tests.ai.providers.contract import ProviderContract, collect
from tests.ai.providers.gemini_wire import USAGE, GeminiWire, error, reply
from tests.support.settings import settings_from

PROJECT_ROOT = Path(__file__).resolve().parents[3]
API = "https://generativelanguage.googleapis.com"
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
    model="gemini-2.5-flash",
    messages=(
        ChatMessage(Role.SYSTEM, "You are terse."),
        ChatMessage(Role.USER, "What is 6*7?"),
    ),
)


@pytest.fixture(autouse=True)
def _no_endpoint_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK reads these variables; a developer's shell must not move the endpoint."""
    monkeypatch.delenv("GOOGLE_GEMINI_BASE_URL", raising=False)
    monkeypatch.delenv("GOOGLE_GENAI_API_VERSION", raising=False)


def provider(server: FakeServer, *, retries: int = 0) -> GeminiProvider:
    return GeminiProvider(
        api_key="gm-test", timeout=5, max_retries=retries, http_client=server.client()
    )


async def test_complete_sends_system_instruction_and_returns_text(server: FakeServer) -> None:
    server.reply(json_body=reply([{"text": "42"}], usage=USAGE))

    completion = await provider(server).complete(QUESTION)

    assert completion == Completion(
        content="42",
        model="gemini-2.5-flash",
        usage=Usage(input_tokens=18, output_tokens=4),
        finish_reason=FinishReason.STOP,
    )
    request = server.requests[0]
    assert request.url.path.endswith("/models/gemini-2.5-flash:generateContent")
    assert request.headers["x-goog-api-key"] == "gm-test"
    body = server.body()
    assert body["systemInstruction"]["parts"] == [{"text": "You are terse."}]
    assert body["contents"] == [{"role": "user", "parts": [{"text": "What is 6*7?"}]}]
    assert "tools" not in body


async def test_thinking_tokens_count_as_output_and_thoughts_are_not_text(
    server: FakeServer,
) -> None:
    usage = {**USAGE, "thoughtsTokenCount": 30}
    parts: list[dict[str, object]] = [{"text": "Let me think...", "thought": True}, {"text": "42"}]
    server.reply(json_body=reply(parts, usage=usage))

    completion = await provider(server).complete(QUESTION)

    assert completion.content == "42"
    assert completion.usage == Usage(input_tokens=18, output_tokens=34)


async def test_options_are_sent_when_set(server: FakeServer) -> None:
    server.reply(json_body=reply([{"text": "ok"}]))
    request = CompletionRequest(
        model="gemini-2.5-flash", messages=QUESTION.messages, temperature=0.2, max_tokens=64
    )

    await provider(server).complete(request)

    assert server.body()["generationConfig"] == {"temperature": 0.2, "maxOutputTokens": 64}


async def test_function_declarations_are_sent_and_calls_normalized(server: FakeServer) -> None:
    call = {"functionCall": {"id": "fc_1", "name": "calculator", "args": {"expression": "6*7"}}}
    server.reply(json_body=reply([call], usage=USAGE))
    request = CompletionRequest(
        model="gemini-2.5-flash", messages=QUESTION.messages, tools=(CALCULATOR,)
    )

    completion = await provider(server).complete(request)

    assert completion.finish_reason is FinishReason.TOOL_CALLS
    assert completion.tool_calls == (
        ToolCall(id="fc_1", name="calculator", arguments={"expression": "6*7"}),
    )
    [declaration] = server.body()["tools"][0]["functionDeclarations"]
    assert declaration["name"] == "calculator"
    assert declaration["description"] == "Evaluate an arithmetic expression"
    schema = declaration.get("parametersJsonSchema", declaration.get("parameters_json_schema"))
    assert schema == CALCULATOR.parameters


async def test_calls_without_an_id_get_a_unique_one(server: FakeServer) -> None:
    calls = [{"functionCall": {"name": "clock", "args": {}}} for _ in range(2)]
    server.reply(json_body=reply(calls))

    completion = await provider(server).complete(QUESTION)

    first, second = completion.tool_calls
    assert first.id
    assert second.id
    assert first.id != second.id


async def test_tool_results_travel_as_function_responses(server: FakeServer) -> None:
    server.reply(json_body=reply([{"text": "6*7 is 42"}]))
    calls = (
        ToolCall(id="fc_1", name="calculator", arguments={"expression": "6*7"}),
        ToolCall(id="fc_2", name="clock", arguments={}),
    )
    request = CompletionRequest(
        model="gemini-2.5-flash",
        messages=(
            *QUESTION.messages,
            ChatMessage(Role.ASSISTANT, "", tool_calls=calls),
            ChatMessage(Role.TOOL, "42", tool_call_id="fc_1"),
            ChatMessage(Role.TOOL, "12:00", tool_call_id="fc_2", name="clock"),
        ),
        tools=(CALCULATOR,),
    )

    await provider(server).complete(request)

    model_turn, results_turn = server.body()["contents"][1:]
    assert model_turn["role"] == "model"
    assert [part["functionCall"] for part in model_turn["parts"]] == [
        {"id": "fc_1", "name": "calculator", "args": {"expression": "6*7"}},
        {"id": "fc_2", "name": "clock", "args": {}},
    ]
    assert results_turn == {
        "role": "user",
        "parts": [
            {
                "functionResponse": {
                    "id": "fc_1",
                    "name": "calculator",
                    "response": {"result": "42"},
                }
            },
            {"functionResponse": {"id": "fc_2", "name": "clock", "response": {"result": "12:00"}}},
        ],
    }


async def test_a_tool_loop_replays_the_models_thought_signature(server: FakeServer) -> None:
    signature = base64.b64encode(b"opaque-signature").decode()
    call = {"functionCall": {"id": "fc_1", "name": "calculator", "args": {"expression": "6*7"}}}
    server.reply(json_body=reply([{**call, "thoughtSignature": signature}]))
    server.reply(json_body=reply([{"text": "42"}]))
    gemini = provider(server)
    request = CompletionRequest(model="gemini-3-flash", messages=QUESTION.messages)

    first = await gemini.complete(request)
    follow_up = CompletionRequest(
        model="gemini-3-flash",
        messages=(
            *request.messages,
            ChatMessage(Role.ASSISTANT, "", tool_calls=first.tool_calls),
            ChatMessage(Role.TOOL, "42", tool_call_id="fc_1", name="calculator"),
        ),
    )
    await gemini.complete(follow_up)

    [part] = server.body()["contents"][1]["parts"]
    assert part["thoughtSignature"] == signature


async def test_a_call_without_its_signature_gets_googles_stand_in(server: FakeServer) -> None:
    server.reply(json_body=reply([{"text": "42"}]))
    calls = (
        ToolCall(id="old_1", name="calculator", arguments={"expression": "6*7"}),
        ToolCall(id="old_2", name="clock", arguments={}),
    )
    request = CompletionRequest(
        model="gemini-3-flash",
        messages=(
            *QUESTION.messages,
            ChatMessage(Role.ASSISTANT, "", tool_calls=calls),
            ChatMessage(Role.TOOL, "42", tool_call_id="old_1", name="calculator"),
            ChatMessage(Role.TOOL, "12:00", tool_call_id="old_2", name="clock"),
        ),
    )

    await provider(server).complete(request)

    first, second = server.body()["contents"][1]["parts"]
    assert base64.b64decode(first["thoughtSignature"]) == SKIP_SIGNATURE
    assert "thoughtSignature" not in second


async def test_stream_yields_text_then_one_completion(server: FakeServer) -> None:
    server.reply_stream(
        sse(
            (None, reply([{"text": "Forty"}], finish_reason=None)),
            (None, reply([{"text": "-two"}], usage=USAGE)),
        )
    )

    events = await collect(provider(server).stream(QUESTION))

    assert events == [
        TextDelta("Forty"),
        TextDelta("-two"),
        StreamCompleted(
            Completion(
                content="Forty-two",
                model="gemini-2.5-flash",
                usage=Usage(input_tokens=18, output_tokens=4),
            )
        ),
    ]
    request = server.requests[0]
    assert request.url.path.endswith("/models/gemini-2.5-flash:streamGenerateContent")
    assert request.url.params["alt"] == "sse"


async def test_stream_collects_function_calls(server: FakeServer) -> None:
    call = {"functionCall": {"id": "fc_1", "name": "calculator", "args": {"expression": "6*7"}}}
    server.reply_stream(
        sse(
            (None, reply([{"text": "Calculating."}], finish_reason=None)),
            (None, reply([call], usage=USAGE)),
        )
    )

    events = await collect(provider(server).stream(QUESTION))

    assert events[0] == TextDelta("Calculating.")
    assert isinstance(events[-1], StreamCompleted)
    assert events[-1].completion.finish_reason is FinishReason.TOOL_CALLS
    assert events[-1].completion.tool_calls == (
        ToolCall(id="fc_1", name="calculator", arguments={"expression": "6*7"}),
    )


async def test_safety_stop_is_a_content_filter_finish(server: FakeServer) -> None:
    server.reply(json_body=reply([], finish_reason="SAFETY"))

    completion = await provider(server).complete(QUESTION)

    assert completion.finish_reason is FinishReason.CONTENT_FILTER
    assert completion.content == ""


async def test_a_rate_limit_keeps_googles_retry_info(server: FakeServer) -> None:
    retry_info = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "20s"}
    body = error(429, "RESOURCE_EXHAUSTED")
    body["error"]["details"] = [retry_info]
    server.reply(429, json_body=body)

    with pytest.raises(ProviderError) as caught:
        await provider(server).complete(QUESTION)

    assert caught.value.kind is ProviderErrorKind.RATE_LIMITED
    assert caught.value.retry_after == 20.0


async def test_embed_returns_one_vector_per_text(server: FakeServer) -> None:
    server.reply(json_body={"embeddings": [{"values": [0.1, 0.2]}, {"values": [0.3, 0.4]}]})

    vectors = await provider(server).embed(["first", "second"])

    assert vectors == [[0.1, 0.2], [0.3, 0.4]]
    request = server.requests[0]
    assert request.url.path.endswith("/models/gemini-embedding-001:batchEmbedContents")
    assert [item["content"]["parts"] for item in server.body()["requests"]] == [
        [{"text": "first"}],
        [{"text": "second"}],
    ]


async def test_embed_with_missing_vectors_is_a_bad_response(server: FakeServer) -> None:
    server.reply(json_body={"embeddings": [{"values": [0.1, 0.2]}]})

    with pytest.raises(ProviderError) as caught:
        await provider(server).embed(["first", "second"])

    assert caught.value.kind is ProviderErrorKind.BAD_RESPONSE


def settings(**values: object) -> Settings:
    """Settings from these values alone, whatever the environment holds."""
    fields: dict[str, object] = {"gemini_api_key": None, **values}
    return settings_from({"environment": "test", **fields})


def test_factory_offers_gemini_only_with_a_key() -> None:
    assert "gemini" not in ProviderFactory(settings()).available()
    assert "gemini" in ProviderFactory(settings(gemini_api_key="gm-test")).available()


def test_factory_names_the_setting_to_add() -> None:
    with pytest.raises(ProviderNotConfiguredError) as caught:
        ProviderFactory(settings()).get("gemini")

    assert caught.value.status_code == 422
    assert "GEMINI_API_KEY" in caught.value.detail


async def test_factory_builds_one_gemini_provider_with_its_default_model() -> None:
    factory = ProviderFactory(
        settings(gemini_api_key="gm-test", gemini_default_model="gemini-2.5-pro")
    )

    assert isinstance(factory.get("gemini"), GeminiProvider)
    assert factory.get("gemini") is factory.get("gemini")
    assert factory.default_model("gemini") == "gemini-2.5-pro"
    await factory.aclose()


def test_sdk_is_imported_on_first_use_only() -> None:
    script = (
        "import sys\n"
        "from app.ai.providers.factory import ProviderFactory\n"
        "from app.core.config import Settings\n"
        "factory = ProviderFactory(Settings(_env_file=None, gemini_api_key='gm-test'))\n"
        "assert 'gemini' in factory.available()\n"
        "assert 'google.genai' not in sys.modules\n"
        "factory.get('gemini')\n"
        "assert 'google.genai' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, check=True)  # noqa: S603


class TestContract(ProviderContract):
    """Gemini sends arguments as objects, so there is no broken argument text to mark."""

    wire = GeminiWire()
