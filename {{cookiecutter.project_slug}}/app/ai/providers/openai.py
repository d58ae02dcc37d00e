"""OpenAI chat completions, and any server that speaks them (Ollama, vLLM, llama.cpp)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field, replace
from typing import TypeVar

import httpx2
import openai
from openai.types.chat import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionMessage,
    ChatCompletionMessageCustomToolCall,
    ChatCompletionMessageParam,
    ChatCompletionMessageToolCallUnionParam,
    ChatCompletionToolUnionParam,
)
from openai.types.chat.chat_completion import Choice
from openai.types.chat.chat_completion_chunk import Choice as ChunkChoice
from openai.types.chat.chat_completion_chunk import ChoiceDelta
from openai.types.completion_usage import CompletionUsage

from app.ai.providers.base import (
    ChatMessage,
    Completion,
    CompletionRequest,
    FinishReason,
    Moderation,
    Provider,
    ProviderError,
    ProviderErrorKind,
    Role,
    StreamCompleted,
    StreamEvent,
    TextDelta,
    ToolCall,
    Usage,
    bad_response,
    count_field,
    decode_tool_call,
    incomplete,
    reading,
    retry_after_seconds,
    text_field,
)

# Servers such as Ollama ignore the key but the SDK refuses to start without one.
LOCAL_API_KEY = "not-needed"
DEFAULT_EMBEDDING_MODEL = "text-embedding-3-small"
DEFAULT_MODERATION_MODEL = "omni-moderation-latest"
NAME = "openai"

_T = TypeVar("_T")

# What a call can raise besides ProviderError: SDK errors, httpx2's own errors while a stream
# is read, and a reply body that is not JSON.
FAILURES = (openai.OpenAIError, httpx2.RequestError, json.JSONDecodeError)

_FINISH_REASONS = {
    "stop": FinishReason.STOP,
    "length": FinishReason.LENGTH,
    "tool_calls": FinishReason.TOOL_CALLS,
    "function_call": FinishReason.TOOL_CALLS,
    "content_filter": FinishReason.CONTENT_FILTER,
}


class OpenAIProvider(Provider):
    """Chat completions with function tools; `base_url` points it at a local server."""

    name = NAME

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
        """One whole reply, read and checked before anything of it is trusted."""
        messages = to_openai_messages(request.messages)
        tools = to_openai_tools(request) if request.tools else openai.omit
        try:
            response = await self._client.chat.completions.create(
                model=request.model,
                messages=messages,
                tools=tools,
                temperature=_given(request.temperature),
                max_tokens=_given(request.max_tokens if self._local else None),
                max_completion_tokens=_given(None if self._local else request.max_tokens),
            )
        except FAILURES as exc:
            raise map_error(exc) from exc
        with reading(self.name):
            return read_completion(response, request.model)

    async def stream(self, request: CompletionRequest) -> AsyncIterator[StreamEvent]:
        """Text as it arrives, then the assembled reply once the model has said it is done."""
        messages = to_openai_messages(request.messages)
        tools = to_openai_tools(request) if request.tools else openai.omit
        state = _StreamState(model=request.model)
        try:
            chunks = await self._client.chat.completions.create(
                model=request.model,
                messages=messages,
                tools=tools,
                temperature=_given(request.temperature),
                max_tokens=_given(request.max_tokens if self._local else None),
                max_completion_tokens=_given(None if self._local else request.max_tokens),
                stream=True,
                stream_options={"include_usage": True},
            )
            async with chunks:
                async for chunk in chunks:
                    with reading(self.name):
                        text = state.absorb(chunk)
                    if text:
                        yield TextDelta(text)
        except FAILURES as exc:
            raise map_error(exc) from exc
        with reading(self.name):
            completion = state.completion()
        yield StreamCompleted(completion)

    async def embed(self, texts: list[str], *, model: str | None = None) -> list[list[float]]:
        """Vectors in the order of `texts`, whatever order the server lists them in."""
        try:
            response = await self._client.embeddings.create(
                model=model or self._embedding_model, input=texts
            )
        except FAILURES as exc:
            raise map_error(exc) from exc
        with reading(self.name):
            ordered = sorted(response.data, key=lambda item: item.index)
            vectors = [list(item.embedding) for item in ordered]
        if len(vectors) != len(texts):
            raise bad_response(self.name, f"asked for {len(texts)} embeddings, got {len(vectors)}")
        return vectors

    moderates = True

    async def moderate(self, text: str, *, model: str | None = None) -> Moderation:
        """OpenAI's `/moderations` verdict, with the names of the flagged categories."""
        try:
            response = await self._client.moderations.create(
                model=model or DEFAULT_MODERATION_MODEL, input=text
            )
        except FAILURES as exc:
            raise map_error(exc) from exc
        with reading(self.name):
            result = response.results[0]
            flags = result.categories.model_dump(by_alias=True)
            flagged = tuple(sorted(name for name, value in flags.items() if value is True))
            return Moderation(flagged=bool(result.flagged), categories=flagged)

    async def aclose(self) -> None:
        """Close the SDK's HTTP client."""
        await self._client.close()


def read_completion(response: object, model: str) -> Completion:
    """A whole chat completion, checked: one choice with a message, and usage."""
    if not isinstance(response, ChatCompletion):
        raise bad_response(NAME, "reply is not a chat completion")
    choices = response.choices
    if not isinstance(choices, list) or not choices:
        raise bad_response(NAME, "reply has no choices")
    choice = choices[0]
    if not isinstance(choice, Choice) or not isinstance(choice.message, ChatCompletionMessage):
        raise bad_response(NAME, "reply's choice has no message")
    if response.usage is None:
        raise bad_response(NAME, "reply has no usage")
    message = choice.message
    calls = tuple(
        _tool_call(call)
        for call in message.tool_calls or ()
        if not isinstance(call, ChatCompletionMessageCustomToolCall)
    )
    return Completion(
        content=_text(message.content),
        model=_text(response.model) or model,
        usage=_usage(response.usage),
        # A whole body arrived, so a missing finish reason only means the server left it out.
        finish_reason=_finish_reason(_text(choice.finish_reason), calls),
        tool_calls=calls,
    )


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
    usage: Usage | None = None

    def absorb(self, chunk: object) -> str:
        """Fold one chunk in and return its new text, if any."""
        if not isinstance(chunk, ChatCompletionChunk):
            raise bad_response(NAME, "stream sent something other than a chunk")
        self.model = _text(chunk.model) or self.model
        if chunk.usage is not None:
            self.usage = _usage(chunk.usage)
        # The usage chunk has no choices, and keep-alive chunks may have none either.
        if not chunk.choices:
            return ""
        choice = chunk.choices[0]
        if not isinstance(choice, ChunkChoice) or not isinstance(choice.delta, ChoiceDelta):
            raise bad_response(NAME, "stream chunk's choice has no delta")
        self.finish = _text(choice.finish_reason) or self.finish
        for fragment in choice.delta.tool_calls or ():
            # Some servers leave the index out when there is only one call.
            index = fragment.index if isinstance(fragment.index, int) else 0
            call = self.calls.setdefault(index, _PartialCall())
            call.id = _text(fragment.id) or call.id
            if fragment.function is not None:
                call.name += _text(fragment.function.name)
                call.arguments += _text(fragment.function.arguments)
        text = _text(choice.delta.content)
        if text:
            self.text.append(text)
        return text

    def completion(self) -> Completion:
        """The reply, once the stream has ended; only a finished stream is a reply."""
        if self.finish is None:
            raise incomplete(NAME)
        if self.usage is None:
            raise bad_response(NAME, "stream reported no usage")
        calls = tuple(
            _checked_call(decode_tool_call(call.id, call.name, call.arguments))
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
    """The request's tools as function definitions."""
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
    retry_after: float | None = None
    if isinstance(exc, openai.APITimeoutError | httpx2.TimeoutException):
        kind = ProviderErrorKind.TIMEOUT
    elif isinstance(exc, openai.APIConnectionError | httpx2.TransportError):
        # A stream cut off half-way raises httpx2's own errors: the SDK retries only requests.
        kind = ProviderErrorKind.CONNECTION
    elif isinstance(exc, openai.APIStatusError):
        kind = ProviderErrorKind.for_status(exc.status_code)
        retry_after = retry_after_seconds(exc.response.headers)
    elif isinstance(exc, openai.APIResponseValidationError | ValueError | httpx2.RequestError):
        kind = ProviderErrorKind.BAD_RESPONSE
    else:
        # Errors sent inside an already-open stream carry no status: the server failed mid-reply.
        kind = ProviderErrorKind.UNAVAILABLE
    return ProviderError(NAME, kind, str(exc) or type(exc).__name__, retry_after=retry_after)


def _given(value: _T | None) -> _T | openai.Omit:
    """Leave unset options out of the request so the server applies its own defaults."""
    return openai.omit if value is None else value


def _text(value: object) -> str:
    return text_field(NAME, value)


def _usage(usage: object) -> Usage:
    """Token counts of the reply; usage itself must be there, as cost is recorded from it."""
    if not isinstance(usage, CompletionUsage):
        raise bad_response(NAME, "reply's usage is not an object")
    return Usage(
        input_tokens=count_field(NAME, usage.prompt_tokens),
        output_tokens=count_field(NAME, usage.completion_tokens),
    )


def _tool_call(call: object) -> ToolCall:
    """A function call of a whole reply; a few servers send its arguments as an object."""
    function = getattr(call, "function", None)
    if function is None:
        raise bad_response(NAME, "tool call has no function")
    call_id = _text(getattr(call, "id", None))
    name = _text(function.name)
    arguments = function.arguments
    if isinstance(arguments, dict):
        return _checked_call(ToolCall(id=call_id, name=name, arguments=arguments))
    return _checked_call(decode_tool_call(call_id, name, _text(arguments)))


def _checked_call(call: ToolCall) -> ToolCall:
    """A call must name its tool; a missing id is made up so its result can be matched."""
    if not call.name:
        raise bad_response(NAME, "tool call has no function name")
    return call if call.id else replace(call, id=f"call_{uuid.uuid4().hex[:24]}")


def _finish_reason(reason: str | None, calls: tuple[ToolCall, ...]) -> FinishReason:
    # Some compatible servers report "stop" even when the reply is a tool call.
    if calls:
        return FinishReason.TOOL_CALLS
    return _FINISH_REASONS.get(reason or "stop", FinishReason.STOP)
