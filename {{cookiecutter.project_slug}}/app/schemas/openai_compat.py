"""The subset of OpenAI's chat-completions wire format that any OpenAI client sends and reads."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Each message becomes a stored row, so a request's size is bounded in messages and text.
MAX_MESSAGES = 100
MAX_MESSAGE_CHARS = 100_000
MAX_TOTAL_CHARS = 400_000
MAX_CONTENT_PARTS = 64


class ContentPart(BaseModel):
    """One part of a multi-part message; only text parts are read."""

    model_config = ConfigDict(extra="ignore")

    type: str = Field(max_length=64)
    text: str | None = Field(default=None, max_length=MAX_MESSAGE_CHARS)


class ChatCompletionMessage(BaseModel):
    """One turn of the conversation a client sends."""

    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: (
        Annotated[str, Field(max_length=MAX_MESSAGE_CHARS)]
        | Annotated[list[ContentPart], Field(max_length=MAX_CONTENT_PARTS)]
        | None
    ) = None

    @property
    def text(self) -> str:
        """Plain text, with multi-part content joined (non-text parts are not supported)."""
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text or "" for part in self.content if part.type == "text")


class ChatCompletionRequest(BaseModel):
    """Sampling options are the agent's own; fields a client may send beyond these are ignored."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1, max_length=100, description="An agent's id or name")
    messages: list[ChatCompletionMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
    stream: bool = False

    @model_validator(mode="after")
    def _bounded_text(self) -> Self:
        """Many messages each under the per-message cap can still add up to too much."""
        total = sum(len(message.text) for message in self.messages)
        if total > MAX_TOTAL_CHARS:
            raise ValueError(f"Messages must hold at most {MAX_TOTAL_CHARS} characters in all")
        return self


class CompletionUsage(BaseModel):
    """Token counts, in the shape OpenAI clients read."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class AssistantMessage(BaseModel):
    """The agent's answer, in the shape OpenAI clients read."""

    role: Literal["assistant"] = "assistant"
    content: str | None


class Choice(BaseModel):
    """The one answer a run gives; OpenAI clients expect a list of them."""

    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop", "length"] = "stop"
    logprobs: None = None


class ChatCompletion(BaseModel):
    """A whole answer as OpenAI's chat-completions endpoint returns it."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: CompletionUsage


def completion_chunk(
    *, chunk_id: str, created: int, model: str, delta: dict[str, Any], finish_reason: str | None
) -> dict[str, Any]:
    """One `chat.completion.chunk` as streamed by OpenAI."""
    return {
        "id": chunk_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}],
    }
