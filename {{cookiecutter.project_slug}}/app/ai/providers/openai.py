"""OpenAI chat completions, and any server that speaks them (Ollama, vLLM, llama.cpp)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

import httpx2
import openai
from openai.types.chat import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionMessageParam,
    ChatCompletionMessageToolCallUnionParam,
    ChatCompletionToolUnionParam,
)
from openai.types.completion_usage import CompletionUsage

from app.ai.providers.base import (
    ChatMessage,
    Completion,
    CompletionRequest,
    FinishReason,
    Provider,
    ProviderError,
    ProviderErrorKind,
    Role,
    StreamCompleted,
    StreamEvent,
    TextDelta,
    ToolCall,
    Usage,
    parse_tool_arguments,
)

# Servers such as Ollama ignore the key but the SDK refuses to start without one.
LOCAL_API_KEY = "not-needed"
DEFAULT_EMBEDDING_MODEL = "text-embedding-3-small"

_T = TypeVar("_T")

# What a call can raise besides ProviderError: SDK errors, transport errors while a stream is
# read, and a reply body that is not JSON.
FAILURES = (openai.OpenAIError, httpx2.TransportError, json.JSONDecodeError)

_FINISH_REASONS = {
    "stop": FinishReason.STOP,
    "length": FinishReason.LENGTH,
    "tool_calls": FinishReason.TOOL_CALLS,
    "function_call": FinishReason.TOOL_CALLS,
    "content_filter": FinishReason.CONTENT_FILTER,
}


class OpenAIProvider(Provider):
    """Chat completions with function tools; `base_url` points it at a local server."""

    name = "openai"

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | None = None,
        timeout: float,
        max_retries: int,
        http_client: httpx2.AsyncClient | None = None,
        embedding_model: str = DEFAULT_EMBEDDING_MODEL,
    ) -> None:
        self._client = openai.AsyncOpenAI(
            api_key=api_key or (LOCAL_API_KEY if base_url else None),
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            http_client=http_client,
        )
        # OpenAI's own API wants max_completion_tokens (reasoning models refuse max_tokens);
        # compatible servers still read max_tokens.
        self._local = base_url is not None
        self._embedding_model = embedding_model

    async def complete(self, request: CompletionRequest) -> Completion:
        try:
            response = await self._client.chat.completions.create(
                model=request.model,
                messages=to_openai_messages(request.messages),
                tools=to_openai_tools(request) if request.tools else openai.omit,
                temperature=_given(request.temperature),
                max_tokens=_given(request.max_tokens if self._local else None),
                max_completion_tokens=_given(None if self._local else request.max_tokens),
            )
        except FAILURES as exc:
            raise map_error(exc) from exc
        if not isinstance(response, ChatCompletion) or not response.choices:
            raise ProviderError(self.name, ProviderErrorKind.BAD_RESPONSE, "reply has no choices")
        choice = response.choices[0]
        calls = tuple(
            ToolCall(
                id=call.id,
                name=call.function.name,
                arguments=parse_tool_arguments(
                    self.name, call.function.name, call.function.arguments
                ),
            )
            for call in choice.message.tool_calls or ()
            if call.type == "function"
        )
        return Completion(
            content=choice.message.content or "",
            model=response.model or request.model,
            usage=_usage(response.usage),
            finish_reason=_finish_reason(choice.finish_reason, calls),
            tool_calls=calls,
        )

    async def stream(self, request: CompletionRequest) -> AsyncIterator[StreamEvent]:
        state = _StreamState(model=request.model)
        try:
            chunks = await self._client.chat.completions.create(
                model=request.model,
                messages=to_openai_messages(request.messages),
                tools=to_openai_tools(request) if request.tools else openai.omit,
                temperature=_given(request.temperature),
                max_tokens=_given(request.max_tokens if self._local else None),
                max_completion_tokens=_given(None if self._local else request.max_tokens),
                stream=True,
                stream_options={"include_usage": True},
            )
            async with chunks:
                async for chunk in chunks:
                    if text := state.absorb(chunk):
                        yield TextDelta(text)
        except FAILURES as exc:
            raise map_error(exc) from exc
        yield StreamCompleted(state.completion())

    async def embed(self, texts: list[str], *, model: str | None = None) -> list[list[float]]:
        try:
            response = await self._client.embeddings.create(
                model=model or self._embedding_model, input=texts
            )
        except FAILURES as exc:
            raise map_error(exc) from exc
        return [item.embedding for item in sorted(response.data, key=lambda item: item.index)]

    async def aclose(self) -> None:
        await self._client.close()


@dataclass(slots=True)
class _PartialCall:
    id: str = ""
    name: str = ""
    arguments: str = ""


@dataclass(slots=True)
class _StreamState:
    """Chunks folded into one reply; tool calls arrive as fragments keyed by index."""

    model: str
    text: list[str] = field(default_factory=list)
    calls: dict[int, _PartialCall] = field(default_factory=dict)
    finish: str | None = None
    usage: Usage = field(default_factory=Usage)
    started: bool = False

    def absorb(self, chunk: ChatCompletionChunk) -> str:
        """Fold one chunk in and return its new text, if any."""
        self.started = True
        self.model = chunk.model or self.model
        if chunk.usage is not None:
            self.usage = _usage(chunk.usage)
        if not chunk.choices:
            return ""
        choice = chunk.choices[0]
        self.finish = choice.finish_reason or self.finish
        for fragment in choice.delta.tool_calls or ():
            call = self.calls.setdefault(fragment.index, _PartialCall())
            call.id = fragment.id or call.id
            if fragment.function is not None:
                call.name += fragment.function.name or ""
                call.arguments += fragment.function.arguments or ""
        text = choice.delta.content or ""
        if text:
            self.text.append(text)
        return text

    def completion(self) -> Completion:
        if not self.started:
            raise ProviderError(
                OpenAIProvider.name, ProviderErrorKind.BAD_RESPONSE, "stream held no reply"
            )
        calls = tuple(
            ToolCall(
                id=call.id,
                name=call.name,
                arguments=parse_tool_arguments(OpenAIProvider.name, call.name, call.arguments),
            )
            for _, call in sorted(self.calls.items())
        )
        return Completion(
            content="".join(self.text),
            model=self.model,
            usage=self.usage,
            finish_reason=_finish_reason(self.finish, calls),
            tool_calls=calls,
        )


def to_openai_messages(messages: Iterable[ChatMessage]) -> list[ChatCompletionMessageParam]:
    """Normalized messages in the chat completions wire shape."""
    converted: list[ChatCompletionMessageParam] = []
    for message in messages:
        match message.role:
            case Role.SYSTEM:
                converted.append({"role": "system", "content": message.content})
            case Role.USER:
                converted.append({"role": "user", "content": message.content})
            case Role.ASSISTANT:
                calls: list[ChatCompletionMessageToolCallUnionParam] = [
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
                    }
                    for call in message.tool_calls
                ]
                if calls:
                    converted.append(
                        {
                            "role": "assistant",
                            "content": message.content or None,
                            "tool_calls": calls,
                        }
                    )
                else:
                    converted.append({"role": "assistant", "content": message.content})
            case Role.TOOL:
                converted.append(
                    {
                        "role": "tool",
                        "tool_call_id": message.tool_call_id or "",
                        "content": message.content,
                    }
                )
    return converted


def to_openai_tools(request: CompletionRequest) -> list[ChatCompletionToolUnionParam]:
    return [
        {
            "type": "function",
            "function": {
                "name": tool.name,
                "description": tool.description,
                "parameters": tool.parameters,
            },
        }
        for tool in request.tools
    ]


def map_error(exc: Exception) -> ProviderError:
    """One ProviderError for every failure in `FAILURES`, raised after the SDK's own retries."""
    if isinstance(exc, openai.APITimeoutError | httpx2.TimeoutException):
        kind = ProviderErrorKind.TIMEOUT
    elif isinstance(exc, openai.APIConnectionError | httpx2.TransportError):
        # A stream cut off half-way raises httpx2's own errors: the SDK retries only requests.
        kind = ProviderErrorKind.UNAVAILABLE
    elif isinstance(exc, openai.APIStatusError):
        kind = ProviderErrorKind.for_status(exc.status_code)
    elif isinstance(exc, openai.APIResponseValidationError | json.JSONDecodeError):
        kind = ProviderErrorKind.BAD_RESPONSE
    else:
        # Errors sent inside an already-open stream carry no status: the server failed mid-reply.
        kind = ProviderErrorKind.UNAVAILABLE
    return ProviderError(OpenAIProvider.name, kind, str(exc) or type(exc).__name__)


def _given(value: _T | None) -> _T | openai.Omit:
    """Leave unset options out of the request so the server applies its own defaults."""
    return openai.omit if value is None else value


def _usage(usage: CompletionUsage | None) -> Usage:
    if usage is None:
        return Usage()
    return Usage(input_tokens=usage.prompt_tokens or 0, output_tokens=usage.completion_tokens or 0)


def _finish_reason(reason: str | None, calls: tuple[ToolCall, ...]) -> FinishReason:
    # Some compatible servers report "stop" even when the reply is a tool call.
    if calls:
        return FinishReason.TOOL_CALLS
    return _FINISH_REASONS.get(reason or "stop", FinishReason.STOP)
