"""The OpenAI chat completions wire format: bodies, chunks, and the contract's `Wire`."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from tests.ai.providers.contract import Wire
from tests.support.fake_replies import (
    KEEP_ALIVE_COMMENT,
    Events,
    Json,
    MissingFields,
    Raw,
    Reply,
    finished,
    text_chunks,
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


def broken_reply(**message: Any) -> Json:
    """A whole reply whose message carries these fields as given."""
    return Json(completion_body({"content": None, **message}))


def broken_stream(*deltas: Any, finish_reason: str = "stop") -> Events:
    """A finished stream whose chunks carry these deltas as given."""
    chunks = [chunk(delta) if isinstance(delta, dict) else delta for delta in deltas]
    return Events(finished(chunks, finish_reason, 1))


class OpenAIWire(Wire):
    """Chat completions, the format the fake provider speaks natively."""

    name = "openai"
    malformed_replies: ClassVar[dict[str, Reply]] = {
        "no choices": MissingFields("choices"),
        "an empty choice list": Json({**completion_body({"content": "x"}), "choices": []}),
        "a choice without its message": MissingFields("message"),
        "no usage": MissingFields("usage"),
        "a tool call without a function": broken_reply(
            tool_calls=[{"id": "c", "type": "function"}]
        ),
        "a tool call without a name": broken_reply(
            tool_calls=[{"id": "c", "type": "function", "function": {"arguments": "{}"}}]
        ),
        "content that is not text": broken_reply(content=42),
        "a list instead of an object": Json([1, 2]),
        "a truncated body": Raw(),
        "an HTML page": Raw(b"<html>502 Bad Gateway</html>", "text/html"),
    }
    malformed_streams: ClassVar[dict[str, Reply]] = {
        "a choice without its delta": MissingFields("message"),
        "no usage": MissingFields("usage"),
        "a chunk that is not an object": broken_stream([1, 2]),
        "a chunk that is not JSON": Events([b"data: {oops\n\n"]),
        "content that is not text": broken_stream({"content": 42}),
        "a tool call without a name": broken_stream(
            {"tool_calls": [{"index": 0, "id": "c", "function": {"arguments": "{}"}}]},
            finish_reason="tool_calls",
        ),
    }
    keep_alive_frames = (KEEP_ALIVE_COMMENT, chunk({}))

    def settings(self, origin: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
        return {"openai_base_url": f"{origin}/v1", "openai_api_key": None}

    def reply(self, text: str) -> Any:
        return completion_body({"content": text})

    def stream(self, text: str, *, finished: bool = True) -> list[object]:
        chunks = text_chunks(text, 1)
        return finished_chunks(chunks, "stop") if finished else chunks

    def tool_call_reply(self, name: str, raw_arguments: str) -> Any:
        function = {"name": name, "arguments": raw_arguments}
        call = {"id": "call_1", "type": "function", "function": function}
        return completion_body({"content": None, "tool_calls": [call]}, "tool_calls")

    def tool_call_stream(self, name: str, raw_arguments: str) -> list[object]:
        opening = {"index": 0, "id": "call_1", "type": "function", "function": {"name": name}}
        fragment = {"index": 0, "function": {"arguments": raw_arguments}}
        deltas: list[dict[str, object]] = [{"tool_calls": [opening]}, {"tool_calls": [fragment]}]
        return finished_chunks([chunk(delta) for delta in deltas], "tool_calls")

    def error(self, status: int) -> Any:
        return {"error": {"message": "nope", "type": "invalid_request_error", "code": None}}


def finished_chunks(chunks: list[Any], finish_reason: str) -> list[object]:
    return finished(chunks, finish_reason, 1)
