"""Anthropic's Messages API: system prompt apart, tools as tool_use/tool_result blocks."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field

import anthropic
import httpx2
from anthropic.types import ContentBlockParam, MessageParam, ToolParam

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
    bad_response,
    count_field,
    decode_tool_call,
    incomplete,
    reading,
    retry_after_seconds,
    text_field,
)

# The API requires max_tokens; this bounds a reply when the agent sets no limit.
DEFAULT_MAX_TOKENS = 4096
NAME = "anthropic"

_FINISH_REASONS = {
    "end_turn": FinishReason.STOP,
    "stop_sequence": FinishReason.STOP,
    "pause_turn": FinishReason.STOP,
    "tool_use": FinishReason.TOOL_CALLS,
    "max_tokens": FinishReason.LENGTH,
    "model_context_window_exceeded": FinishReason.LENGTH,
    "refusal": FinishReason.CONTENT_FILTER,
}

# What a call can raise besides ProviderError: SDK errors, httpx2's own errors while a stream
# is read, and a reply body that is not JSON.
FAILURES = (anthropic.AnthropicError, httpx2.RequestError, json.JSONDecodeError)

# Errors sent inside an open stream arrive with HTTP 200; their body's type says what failed.
_ERROR_TYPES = {
    "rate_limit_error": ProviderErrorKind.RATE_LIMITED,
    "overloaded_error": ProviderErrorKind.UNAVAILABLE,
    "api_error": ProviderErrorKind.UNAVAILABLE,
    "timeout_error": ProviderErrorKind.TIMEOUT,
    "authentication_error": ProviderErrorKind.AUTHENTICATION,
    "permission_error": ProviderErrorKind.AUTHENTICATION,
    "invalid_request_error": ProviderErrorKind.BAD_REQUEST,
    "not_found_error": ProviderErrorKind.BAD_REQUEST,
    "request_too_large": ProviderErrorKind.BAD_REQUEST,
}


class AnthropicProvider(Provider):
    """Claude models through the official SDK."""

    name = NAME

    def __init__(
        self,
        *,
        api_key: str,
        timeout: float,
        max_retries: int,
        http_client: httpx2.AsyncClient | None = None,
    ) -> None:
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key, timeout=timeout, max_retries=max_retries, http_client=http_client
        )

    async def complete(self, request: CompletionRequest) -> Completion:
        """One whole message, read and checked before anything of it is trusted."""
        system, messages = to_anthropic_messages(request.messages)
        tools = to_anthropic_tools(request) if request.tools else anthropic.omit
        try:
            response = await self._client.messages.create(
                model=request.model,
                max_tokens=request.max_tokens or DEFAULT_MAX_TOKENS,
                system=system or anthropic.omit,
                messages=messages,
                tools=tools,
                extra_body=_sampling(request),
            )
        except FAILURES as exc:
            raise map_error(exc) from exc
        with reading(self.name):
            return read_message(response, request.model)

    async def stream(self, request: CompletionRequest) -> AsyncIterator[StreamEvent]:
        """Text as it arrives, then the assembled reply once `message_stop` has come."""
        system, messages = to_anthropic_messages(request.messages)
        tools = to_anthropic_tools(request) if request.tools else anthropic.omit
        state = _StreamState(model=request.model)
        try:
            events = await self._client.messages.create(
                model=request.model,
                max_tokens=request.max_tokens or DEFAULT_MAX_TOKENS,
                system=system or anthropic.omit,
                messages=messages,
                tools=tools,
                extra_body=_sampling(request),
                stream=True,
            )
            async with events:
                async for event in events:
                    with reading(self.name):
                        text = state.absorb(event)
                    if text:
                        yield TextDelta(text)
        except FAILURES as exc:
            raise map_error(exc) from exc
        with reading(self.name):
            completion = state.completion()
        yield StreamCompleted(completion)

    async def aclose(self) -> None:
        """Close the SDK's HTTP client."""
        await self._client.close()


def read_message(response: object, model: str) -> Completion:
    """A whole message, checked: a list of content blocks, and usage.

    The SDK builds reply objects without validating them, so blocks are told apart by their
    `type` and every field is checked as it is read.
    """
    content = getattr(response, "content", None)
    if not isinstance(content, list):
        raise bad_response(NAME, "reply has no content blocks")
    usage = getattr(response, "usage", None)
    if usage is None:
        raise bad_response(NAME, "reply has no usage")
    text: list[str] = []
    calls: list[ToolCall] = []
    for block in content:
        block_type = getattr(block, "type", None)
        if block_type == "text":
            text.append(_text(getattr(block, "text", None)))
        elif block_type == "tool_use":
            calls.append(_tool_use(block, getattr(block, "input", None)))
        elif not isinstance(block_type, str):
            raise bad_response(NAME, "reply has a content block without a type")
        # Other blocks (thinking, server tools) carry nothing the caller relays.
    return Completion(
        content="".join(text),
        model=_text(getattr(response, "model", None)) or model,
        usage=Usage(_input_tokens(usage), _count(getattr(usage, "output_tokens", None))),
        finish_reason=_finish_reason(_text(getattr(response, "stop_reason", None)), calls),
        tool_calls=tuple(calls),
    )


@dataclass(slots=True)
class _PartialCall:
    id: str
    name: str
    arguments: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _StreamState:
    """Stream events folded into one reply; tool input arrives as JSON fragments."""

    model: str
    text: list[str] = field(default_factory=list)
    calls: dict[int, _PartialCall] = field(default_factory=dict)
    stop_reason: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    started: bool = False
    stopped: bool = False

    def absorb(self, event: object) -> str:
        """Fold one event in and return its new text, if any; events are told apart by type."""
        kind = getattr(event, "type", None)
        if kind == "message_start":
            self._start(getattr(event, "message", None))
        elif not isinstance(kind, str):
            raise bad_response(NAME, "stream sent an event without a type")
        elif not self.started:
            raise bad_response(NAME, f"stream sent {kind!r} before message_start")
        elif kind == "content_block_start":
            return self._block_start(event, getattr(event, "content_block", None))
        elif kind == "content_block_delta":
            return self._block_delta(event, getattr(event, "delta", None))
        elif kind == "message_delta":
            self._message_delta(getattr(event, "delta", None), getattr(event, "usage", None))
        elif kind == "message_stop":
            self.stopped = True
        return ""

    def completion(self) -> Completion:
        """The reply, once the stream has ended; only a stopped message is a reply."""
        if not self.stopped or not self.stop_reason:
            raise incomplete(NAME)
        calls = [
            decode_tool_call(call.id, call.name, "".join(call.arguments))
            for _, call in sorted(self.calls.items())
        ]
        return Completion(
            content="".join(self.text),
            model=self.model,
            usage=Usage(input_tokens=self.input_tokens, output_tokens=self.output_tokens),
            finish_reason=_finish_reason(self.stop_reason, calls),
            tool_calls=tuple(calls),
        )

    def _start(self, message: object) -> None:
        usage = getattr(message, "usage", None)
        if message is None or usage is None:
            raise bad_response(NAME, "message_start has no message with usage")
        self.started = True
        self.model = _text(getattr(message, "model", None)) or self.model
        self.input_tokens = _input_tokens(usage)
        self.output_tokens = _count(getattr(usage, "output_tokens", None))

    def _block_start(self, event: object, block: object) -> str:
        block_type = getattr(block, "type", None)
        if not isinstance(block_type, str):
            raise bad_response(NAME, "content_block_start has no block")
        if block_type == "tool_use":
            call = _tool_use(block, None)
            self.calls[_index(event)] = _PartialCall(id=call.id, name=call.name)
        elif block_type == "text":
            return self._add_text(getattr(block, "text", None))
        return ""

    def _block_delta(self, event: object, delta: object) -> str:
        delta_type = getattr(delta, "type", None)
        if not isinstance(delta_type, str):
            raise bad_response(NAME, "content_block_delta has no delta")
        if delta_type == "text_delta":
            return self._add_text(getattr(delta, "text", None))
        if delta_type == "input_json_delta" and (call := self.calls.get(_index(event))):
            call.arguments.append(_text(getattr(delta, "partial_json", None)))
        return ""

    def _message_delta(self, delta: object, usage: object) -> None:
        if delta is None:
            raise bad_response(NAME, "message_delta has no delta")
        self.stop_reason = _text(getattr(delta, "stop_reason", None)) or self.stop_reason
        if usage is None:
            return
        # Counts here are running totals; input is repeated only when it changed.
        if getattr(usage, "input_tokens", None) is not None:
            self.input_tokens = _input_tokens(usage)
        self.output_tokens = _count(getattr(usage, "output_tokens", None))

    def _add_text(self, value: object) -> str:
        text = _text(value)
        if text:
            self.text.append(text)
        return text


def to_anthropic_messages(
    messages: Iterable[ChatMessage],
) -> tuple[str, list[MessageParam]]:
    """The system prompt, and the turns as content blocks.

    Tool results travel in a user turn, and consecutive turns of one role are merged, since
    the API expects user and assistant to alternate.
    """
    system: list[str] = []
    turns: list[tuple[str, list[ContentBlockParam]]] = []
    for message in messages:
        role = "assistant" if message.role is Role.ASSISTANT else "user"
        blocks: list[ContentBlockParam] = []
        match message.role:
            case Role.SYSTEM:
                system.append(message.content)
                continue
            case Role.USER | Role.ASSISTANT:
                if message.content:
                    blocks.append({"type": "text", "text": message.content})
                blocks.extend(
                    {"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}
                    for call in message.tool_calls
                )
            case Role.TOOL:
                blocks.append(
                    {
                        "type": "tool_result",
                        "tool_use_id": message.tool_call_id or "",
                        "content": message.content,
                    }
                )
        if not blocks:
            continue
        if turns and turns[-1][0] == role:
            turns[-1][1].extend(blocks)
        else:
            turns.append((role, blocks))
    converted: list[MessageParam] = [
        {"role": "assistant", "content": blocks}
        if role == "assistant"
        else {"role": "user", "content": blocks}
        for role, blocks in turns
    ]
    return "\n\n".join(part for part in system if part), converted


def to_anthropic_tools(request: CompletionRequest) -> list[ToolParam]:
    """The request's tools with their JSON schemas as `input_schema`."""
    return [
        {"name": tool.name, "description": tool.description, "input_schema": tool.parameters}
        for tool in request.tools
    ]


def map_error(exc: Exception) -> ProviderError:
    """One ProviderError for every failure in `FAILURES`, raised after the SDK's own retries."""
    retry_after: float | None = None
    if isinstance(exc, anthropic.APITimeoutError | httpx2.TimeoutException):
        kind = ProviderErrorKind.TIMEOUT
    elif isinstance(exc, anthropic.APIConnectionError | httpx2.TransportError):
        # A stream cut off half-way raises httpx2's own errors: the SDK retries only requests.
        kind = ProviderErrorKind.CONNECTION
    elif isinstance(exc, anthropic.APIStatusError):
        kind = _ERROR_TYPES.get(_error_type(exc.body)) or ProviderErrorKind.for_status(
            exc.status_code
        )
        retry_after = retry_after_seconds(exc.response.headers)
    elif isinstance(exc, anthropic.APIResponseValidationError | ValueError | httpx2.RequestError):
        kind = ProviderErrorKind.BAD_RESPONSE
    else:
        kind = ProviderErrorKind.UNAVAILABLE
    return ProviderError(NAME, kind, str(exc) or type(exc).__name__, retry_after=retry_after)


def _error_type(body: object) -> str:
    """The `error.type` of an error body such as `{"error": {"type": "overloaded_error"}}`."""
    error = body.get("error") if isinstance(body, dict) else None
    return str(error.get("type", "")) if isinstance(error, dict) else ""


def _text(value: object) -> str:
    return text_field(NAME, value)


def _count(value: object) -> int:
    return count_field(NAME, value)


def _index(event: object) -> int:
    index = getattr(event, "index", None)
    if not isinstance(index, int):
        raise bad_response(NAME, "content block event has no index")
    return index


def _input_tokens(usage: object) -> int:
    """Every input token, cached or not, as `input_tokens` leaves out cache reads and writes."""
    return sum(
        _count(getattr(usage, name, None))
        for name in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    )


def _sampling(request: CompletionRequest) -> dict[str, object] | None:
    # SDK 1.0 dropped `temperature` from the method signature; the API still accepts it.
    if request.temperature is None:
        return None
    return {"temperature": request.temperature}


def _tool_use(block: object, arguments: object) -> ToolCall:
    """A tool_use block as a call; input that is not a JSON object is marked, not raised."""
    call_id = _text(getattr(block, "id", None))
    name = _text(getattr(block, "name", None))
    if not call_id or not name:
        raise bad_response(NAME, "tool_use block has no id or name")
    if isinstance(arguments, dict):
        return ToolCall(id=call_id, name=name, arguments=arguments)
    if arguments is None or isinstance(arguments, str):
        return decode_tool_call(call_id, name, arguments)
    return decode_tool_call(call_id, name, json.dumps(arguments))


def _finish_reason(reason: str, calls: list[ToolCall]) -> FinishReason:
    if calls:
        return FinishReason.TOOL_CALLS
    return _FINISH_REASONS.get(reason or "end_turn", FinishReason.STOP)
