"""Anthropic's Messages API: system prompt apart, tools as tool_use/tool_result blocks."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field

import anthropic
import httpx2
from anthropic.types import (
    ContentBlockParam,
    InputJSONDelta,
    Message,
    MessageDeltaUsage,
    MessageParam,
    RawContentBlockDeltaEvent,
    RawContentBlockStartEvent,
    RawMessageDeltaEvent,
    RawMessageStartEvent,
    RawMessageStreamEvent,
    ToolParam,
    ToolUseBlock,
)
from anthropic.types import TextBlock as AnthropicTextBlock
from anthropic.types import TextDelta as AnthropicTextDelta
from anthropic.types import Usage as AnthropicUsage

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

# The API requires max_tokens; this bounds a reply when the agent sets no limit.
DEFAULT_MAX_TOKENS = 4096

_FINISH_REASONS = {
    "end_turn": FinishReason.STOP,
    "stop_sequence": FinishReason.STOP,
    "pause_turn": FinishReason.STOP,
    "tool_use": FinishReason.TOOL_CALLS,
    "max_tokens": FinishReason.LENGTH,
    "model_context_window_exceeded": FinishReason.LENGTH,
    "refusal": FinishReason.CONTENT_FILTER,
}

# What a call can raise besides ProviderError: SDK errors, transport errors while a stream is
# read, and a reply body that is not JSON.
FAILURES = (anthropic.AnthropicError, httpx2.TransportError, json.JSONDecodeError)

# Errors sent inside an open stream arrive with HTTP 200; their body's type says what failed.
_ERROR_TYPES = {
    "rate_limit_error": ProviderErrorKind.RATE_LIMITED,
    "overloaded_error": ProviderErrorKind.UNAVAILABLE,
    "api_error": ProviderErrorKind.UNAVAILABLE,
    "timeout_error": ProviderErrorKind.TIMEOUT,
    "authentication_error": ProviderErrorKind.AUTHENTICATION,
    "permission_error": ProviderErrorKind.AUTHENTICATION,
}


class AnthropicProvider(Provider):
    """Claude models through the official SDK."""

    name = "anthropic"

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
        system, messages = to_anthropic_messages(request.messages)
        try:
            response = await self._client.messages.create(
                model=request.model,
                max_tokens=request.max_tokens or DEFAULT_MAX_TOKENS,
                system=system or anthropic.omit,
                messages=messages,
                tools=to_anthropic_tools(request) if request.tools else anthropic.omit,
                extra_body=_sampling(request),
            )
        except FAILURES as exc:
            raise map_error(exc) from exc
        if not isinstance(response, Message) or not isinstance(response.content, list):
            raise ProviderError(self.name, ProviderErrorKind.BAD_RESPONSE, "reply has no content")
        text: list[str] = []
        calls: list[ToolCall] = []
        for block in response.content:
            if isinstance(block, AnthropicTextBlock):
                text.append(block.text)
            elif isinstance(block, ToolUseBlock):
                calls.append(ToolCall(id=block.id, name=block.name, arguments=_arguments(block)))
        return Completion(
            content="".join(text),
            model=response.model or request.model,
            usage=Usage(_input_tokens(response.usage), response.usage.output_tokens),
            finish_reason=_finish_reason(response.stop_reason, calls),
            tool_calls=tuple(calls),
        )

    async def stream(self, request: CompletionRequest) -> AsyncIterator[StreamEvent]:
        system, messages = to_anthropic_messages(request.messages)
        state = _StreamState(model=request.model)
        try:
            events = await self._client.messages.create(
                model=request.model,
                max_tokens=request.max_tokens or DEFAULT_MAX_TOKENS,
                system=system or anthropic.omit,
                messages=messages,
                tools=to_anthropic_tools(request) if request.tools else anthropic.omit,
                extra_body=_sampling(request),
                stream=True,
            )
            async with events:
                async for event in events:
                    if text := state.absorb(event):
                        yield TextDelta(text)
        except FAILURES as exc:
            raise map_error(exc) from exc
        yield StreamCompleted(state.completion())

    async def aclose(self) -> None:
        await self._client.close()


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
    stop_reason: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    started: bool = False

    def absorb(self, event: RawMessageStreamEvent) -> str:
        """Fold one event in and return its new text, if any."""
        if isinstance(event, RawMessageStartEvent):
            self.started = True
            self.model = event.message.model or self.model
            self.input_tokens = _input_tokens(event.message.usage)
            self.output_tokens = event.message.usage.output_tokens
        elif isinstance(event, RawContentBlockStartEvent):
            if isinstance(event.content_block, ToolUseBlock):
                block = event.content_block
                self.calls[event.index] = _PartialCall(id=block.id, name=block.name)
        elif isinstance(event, RawContentBlockDeltaEvent):
            if isinstance(event.delta, AnthropicTextDelta):
                self.text.append(event.delta.text)
                return event.delta.text
            if isinstance(event.delta, InputJSONDelta) and event.index in self.calls:
                self.calls[event.index].arguments.append(event.delta.partial_json)
        elif isinstance(event, RawMessageDeltaEvent):
            self.stop_reason = event.delta.stop_reason or self.stop_reason
            # Counts here are running totals; input is repeated only when it changed.
            if event.usage.input_tokens is not None:
                self.input_tokens = _input_tokens(event.usage)
            self.output_tokens = event.usage.output_tokens
        return ""

    def completion(self) -> Completion:
        if not self.started:
            raise ProviderError(
                AnthropicProvider.name, ProviderErrorKind.BAD_RESPONSE, "stream held no message"
            )
        calls = [
            ToolCall(
                id=call.id,
                name=call.name,
                arguments=parse_tool_arguments(
                    AnthropicProvider.name, call.name, "".join(call.arguments)
                ),
            )
            for _, call in sorted(self.calls.items())
        ]
        return Completion(
            content="".join(self.text),
            model=self.model,
            usage=Usage(input_tokens=self.input_tokens, output_tokens=self.output_tokens),
            finish_reason=_finish_reason(self.stop_reason, calls),
            tool_calls=tuple(calls),
        )


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
    return [
        {"name": tool.name, "description": tool.description, "input_schema": tool.parameters}
        for tool in request.tools
    ]


def map_error(exc: Exception) -> ProviderError:
    """One ProviderError for every failure in `FAILURES`, raised after the SDK's own retries."""
    if isinstance(exc, anthropic.APITimeoutError | httpx2.TimeoutException):
        kind = ProviderErrorKind.TIMEOUT
    elif isinstance(exc, anthropic.APIConnectionError | httpx2.TransportError):
        # A stream cut off half-way raises httpx2's own errors: the SDK retries only requests.
        kind = ProviderErrorKind.UNAVAILABLE
    elif isinstance(exc, anthropic.APIStatusError):
        kind = _ERROR_TYPES.get(_error_type(exc.body)) or ProviderErrorKind.for_status(
            exc.status_code
        )
    elif isinstance(exc, anthropic.APIResponseValidationError | json.JSONDecodeError):
        kind = ProviderErrorKind.BAD_RESPONSE
    else:
        kind = ProviderErrorKind.UNAVAILABLE
    return ProviderError(AnthropicProvider.name, kind, str(exc) or type(exc).__name__)


def _error_type(body: object) -> str:
    """The `error.type` of an error body such as `{"error": {"type": "overloaded_error"}}`."""
    error = body.get("error") if isinstance(body, dict) else None
    return str(error.get("type", "")) if isinstance(error, dict) else ""


def _input_tokens(usage: AnthropicUsage | MessageDeltaUsage) -> int:
    """Every input token, cached or not, as `input_tokens` leaves out cache reads and writes."""
    return (
        (usage.input_tokens or 0)
        + (usage.cache_creation_input_tokens or 0)
        + (usage.cache_read_input_tokens or 0)
    )


def _sampling(request: CompletionRequest) -> dict[str, object] | None:
    # SDK 1.0 dropped `temperature` from the method signature; the API still accepts it.
    if request.temperature is None:
        return None
    return {"temperature": request.temperature}


def _arguments(block: ToolUseBlock) -> dict[str, object]:
    if not isinstance(block.input, dict):
        raise ProviderError(
            AnthropicProvider.name,
            ProviderErrorKind.BAD_RESPONSE,
            f"input for {block.name!r} is not a JSON object",
        )
    return block.input


def _finish_reason(reason: str | None, calls: list[ToolCall]) -> FinishReason:
    if calls:
        return FinishReason.TOOL_CALLS
    return _FINISH_REASONS.get(reason or "end_turn", FinishReason.STOP)
