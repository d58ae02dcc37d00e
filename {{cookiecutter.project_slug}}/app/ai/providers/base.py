"""The provider contract: normalized chat types every adapter speaks.

Adapters translate these to and from one vendor's SDK; nothing above this layer
ever sees a vendor type.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar


class Role(StrEnum):
    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"


class FinishReason(StrEnum):
    STOP = "stop"
    TOOL_CALLS = "tool_calls"
    LENGTH = "length"
    CONTENT_FILTER = "content_filter"


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A model's request to run one tool with JSON arguments."""

    id: str
    name: str
    arguments: dict[str, Any]


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
    input_tokens: int = 0
    output_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens, self.output_tokens + other.output_tokens
        )


@dataclass(frozen=True, slots=True)
class CompletionRequest:
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


class ProviderErrorKind(StrEnum):
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    TIMEOUT = "timeout"
    AUTHENTICATION = "authentication"
    BAD_REQUEST = "bad_request"
    BAD_RESPONSE = "bad_response"

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
    """Any failure talking to a model, in one shape whatever the vendor."""

    def __init__(self, provider: str, kind: ProviderErrorKind, message: str) -> None:
        super().__init__(f"{provider}: {kind.value}: {message}")
        self.provider = provider
        self.kind = kind
        self.message = message


def parse_tool_arguments(provider: str, tool: str, raw: str | None) -> dict[str, Any]:
    """Decode a model's JSON tool arguments; broken JSON is the model's fault, not the caller's.

    Raises:
        ProviderError: `bad_response` when the text is not a JSON object.
    """
    if not raw or not raw.strip():
        return {}
    try:
        arguments = json.loads(raw)
    except ValueError as exc:
        raise ProviderError(
            provider, ProviderErrorKind.BAD_RESPONSE, f"arguments for {tool!r} are not JSON: {exc}"
        ) from exc
    if not isinstance(arguments, dict):
        raise ProviderError(
            provider,
            ProviderErrorKind.BAD_RESPONSE,
            f"arguments for {tool!r} are not a JSON object",
        )
    return arguments


class Provider(ABC):
    """Base class for model adapters.

    Subclasses set `name`, translate `CompletionRequest` into one vendor's call and
    the answer back into `Completion`. They raise `ProviderError` for every failure
    (after the SDK's own retries), never a vendor exception.
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

    async def aclose(self) -> None:  # noqa: B027 - a provider without a client has nothing to do
        """Release the HTTP client; called at shutdown."""
