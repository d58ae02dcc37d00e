"""The provider contract: normalized chat types every adapter speaks.

Adapters translate these to and from one vendor's SDK; nothing above this layer
ever sees a vendor type.
"""

from __future__ import annotations

import email.utils
import json
import math
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar


class Role(StrEnum):
    """Who speaks a turn; every vendor's roles map onto these four."""

    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"


class FinishReason(StrEnum):
    """Why the model stopped, so the loop knows whether to run tools or finish."""

    STOP = "stop"
    TOOL_CALLS = "tool_calls"
    LENGTH = "length"
    CONTENT_FILTER = "content_filter"


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A model's request to run one tool with JSON arguments.

    When the model's arguments were not a JSON object, `arguments` is empty,
    `arguments_error` says what was wrong and `raw_arguments` keeps the text as sent, so the
    caller can answer the call with a tool error the model can correct.
    """

    id: str
    name: str
    arguments: dict[str, Any]
    arguments_error: str | None = None
    raw_arguments: str | None = None


@dataclass(frozen=True, slots=True)
class ToolDefinition:
    """A tool as offered to a model: its name, purpose and JSON-schema parameters."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One turn of a conversation; tool results carry the id of the call they answer."""

    role: Role
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens read and written by one call, the basis of the execution's cost."""

    input_tokens: int = 0
    output_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        """Totals across the calls of one run."""
        return Usage(
            self.input_tokens + other.input_tokens, self.output_tokens + other.output_tokens
        )


@dataclass(frozen=True, slots=True)
class CompletionRequest:
    """Everything one model call needs, in a form no vendor owns."""

    model: str
    messages: tuple[ChatMessage, ...]
    tools: tuple[ToolDefinition, ...] = ()
    temperature: float | None = None
    max_tokens: int | None = None


@dataclass(frozen=True, slots=True)
class Completion:
    """A whole model reply: text, any tool calls, usage and why it stopped."""

    content: str
    model: str
    usage: Usage = field(default_factory=Usage)
    finish_reason: FinishReason = FinishReason.STOP
    tool_calls: tuple[ToolCall, ...] = ()


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of streamed text, forwarded to the client as it arrives."""

    text: str


@dataclass(frozen=True, slots=True)
class StreamCompleted:
    """The last event of every stream: the assembled reply, tool calls included."""

    completion: Completion


StreamEvent = TextDelta | StreamCompleted


@dataclass(frozen=True, slots=True)
class Moderation:
    """A moderation model's verdict on one text: flagged or not, and in which categories."""

    flagged: bool
    categories: tuple[str, ...] = ()


class ProviderErrorKind(StrEnum):
    """Why a model call failed, named the same for every vendor so callers decide by kind alone.

    - `rate_limited`: HTTP 429 or a rate-limit error inside a stream; see `retry_after`.
    - `timeout`: no answer within the timeout (the SDK's own, or HTTP 408).
    - `connection`: the server could not be reached, or the connection broke mid-reply.
    - `authentication`: HTTP 401 or 403: the key is missing, wrong or lacks access.
    - `bad_request`: any other 4xx: the vendor refused the request itself.
    - `unavailable`: HTTP 5xx, an overloaded vendor, or a server error sent inside a stream.
    - `bad_response`: a reply that cannot be read, or lacks what every reply must hold.
    - `incomplete`: a stream that ended before the model said why it stopped.
    """

    RATE_LIMITED = "rate_limited"
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    AUTHENTICATION = "authentication"
    BAD_REQUEST = "bad_request"
    UNAVAILABLE = "unavailable"
    BAD_RESPONSE = "bad_response"
    INCOMPLETE = "incomplete"

    @classmethod
    def for_status(cls, status_code: int) -> ProviderErrorKind:
        """Classify an HTTP error status the same way for every vendor."""
        if status_code in (401, 403):
            return cls.AUTHENTICATION
        if status_code == 408:
            return cls.TIMEOUT
        if status_code == 429:
            return cls.RATE_LIMITED
        if status_code >= 500:
            return cls.UNAVAILABLE
        return cls.BAD_REQUEST


class ProviderError(Exception):
    """Any failure talking to a model, in one shape whatever the vendor.

    `retry_after` is the wait in seconds the vendor asked for (its `Retry-After` header),
    when it named one, so a rate limit can be passed on to our own clients.
    """

    def __init__(
        self,
        provider: str,
        kind: ProviderErrorKind,
        message: str,
        *,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{provider}: {kind.value}: {message}")
        self.provider = provider
        self.kind = kind
        self.message = message
        self.retry_after = retry_after

    def __reduce__(self) -> tuple[Any, ...]:
        """Rebuilt whole when a durable run replays the step that raised it."""
        return (_rebuild_provider_error, (self.provider, self.kind, self.message, self.retry_after))


def _rebuild_provider_error(
    provider: str, kind: ProviderErrorKind, message: str, retry_after: float | None
) -> ProviderError:
    """The inverse of `ProviderError.__reduce__`."""
    return ProviderError(provider, kind, message, retry_after=retry_after)


def bad_response(provider: str, message: str) -> ProviderError:
    """The error for a reply that lacks what every reply must hold."""
    return ProviderError(provider, ProviderErrorKind.BAD_RESPONSE, message)


def incomplete(provider: str) -> ProviderError:
    """The error for a stream that ended before the model gave its finish reason."""
    return ProviderError(
        provider, ProviderErrorKind.INCOMPLETE, "the stream ended before the reply was finished"
    )


@contextmanager
def reading(provider: str) -> Iterator[None]:
    """Read a vendor's reply; a shape no check foresaw is a bad response, never a crash.

    SDKs build reply objects without validating them, so a malformed reply surfaces as
    None or a wrong type deep inside an adapter. Adapters check what they rely on; this is
    the net under those checks.
    """
    try:
        yield
    except (AttributeError, KeyError, IndexError, TypeError, ValueError) as exc:
        raise bad_response(provider, f"unexpected reply shape: {exc}") from exc


def text_field(provider: str, value: object) -> str:
    """A text field of a reply: absent is empty, anything but text is a bad response."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise bad_response(provider, f"expected text in the reply, got {type(value).__name__}")
    return value


def count_field(provider: str, value: object) -> int:
    """A token count of a reply: absent is zero, anything but a count is a bad response."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise bad_response(provider, f"expected a token count in the reply, got {value!r}")
    return value


def decode_tool_call(call_id: str, name: str, raw_arguments: str | None) -> ToolCall:
    """A tool call from the model's argument text; text that is not a JSON object is marked.

    Broken arguments are the model's mistake and it can correct them, so they travel on as
    `ToolCall.arguments_error` instead of failing the call.
    """
    if raw_arguments is None or not raw_arguments.strip():
        return ToolCall(id=call_id, name=name, arguments={})
    try:
        arguments = json.loads(raw_arguments)
    except ValueError as exc:
        error = f"arguments are not valid JSON: {exc}"
    else:
        if isinstance(arguments, dict):
            return ToolCall(id=call_id, name=name, arguments=arguments)
        error = "arguments are not a JSON object"
    return ToolCall(
        id=call_id, name=name, arguments={}, arguments_error=error, raw_arguments=raw_arguments
    )


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """The wait a response asks for: `retry-after-ms`, or `Retry-After` in seconds or as a date."""
    milliseconds = _finite(headers.get("retry-after-ms"))
    if milliseconds is not None:
        return milliseconds / 1000
    value = headers.get("retry-after")
    seconds = _finite(value)
    if seconds is not None or not value:
        return seconds
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def _finite(value: str | None) -> float | None:
    """A non-negative finite number of seconds, or None for anything else."""
    try:
        number = float(value) if value is not None else math.nan
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None


class Provider(ABC):
    """Base class for model adapters, and the contract every adapter keeps.

    Subclasses set `name`, translate `CompletionRequest` into one vendor's call and the
    answer back into `Completion`. Whatever the vendor or the network does, they keep to:

    - Only `ProviderError` leaves an adapter, with a `ProviderErrorKind`: never a vendor
      exception, and never `AttributeError`, `KeyError`, `TypeError`, `IndexError` or a JSON
      error from a malformed reply (`reading` is the net under the adapter's own checks).
    - A reply must hold something to read: no choices, no candidates, no content blocks, a
      choice without its message or delta, or no usage is `bad_response`.
    - A stream must end with the model's finish reason (OpenAI `finish_reason`, Anthropic
      `stop_reason` and `message_stop`, Gemini `finish_reason`). One that ends without it is
      `incomplete`, never a completed reply; one whose connection breaks is `connection`.
    - Tool arguments that are not a JSON object are the model's mistake, not a failure: the
      call is returned with `ToolCall.arguments_error` set (see `decode_tool_call`).
    - HTTP errors map through `ProviderErrorKind.for_status`, keeping the `Retry-After` wait
      as `ProviderError.retry_after`.
    - The SDK's own retries and timeouts (`max_retries`, `timeout` from the settings) are the
      only retry layer: an adapter never retries, so one call costs at most
      `max_retries + 1` upstream requests.
    """

    name: ClassVar[str]

    @abstractmethod
    async def complete(self, request: CompletionRequest) -> Completion:
        """Return the whole reply.

        Raises:
            ProviderError: the call failed or the reply could not be understood.
        """

    @abstractmethod
    def stream(self, request: CompletionRequest) -> AsyncIterator[StreamEvent]:
        """Yield `TextDelta`s as they arrive, then exactly one `StreamCompleted`.

        Raises:
            ProviderError: the call failed or the reply could not be understood.
        """

    async def embed(self, texts: list[str], *, model: str | None = None) -> list[list[float]]:
        """Embedding vectors, one per text, for providers that offer them.

        Raises:
            ProviderError: always, for providers without embeddings.
        """
        raise ProviderError(
            self.name, ProviderErrorKind.BAD_REQUEST, "this provider does not offer embeddings"
        )

    # Whether `moderate` is offered, so an agent's moderation check is refused up front.
    moderates: ClassVar[bool] = False

    async def moderate(self, text: str, *, model: str | None = None) -> Moderation:
        """A moderation model's verdict, for providers that have a moderation endpoint.

        Raises:
            ProviderError: always, for providers without one (`moderates` is False).
        """
        raise ProviderError(
            self.name, ProviderErrorKind.BAD_REQUEST, "this provider does not offer moderation"
        )

    async def aclose(self) -> None:  # noqa: B027 - a provider without a client has nothing to do
        """Release the HTTP client; called at shutdown."""
