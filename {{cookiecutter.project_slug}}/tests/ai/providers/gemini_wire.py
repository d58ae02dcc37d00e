"""The Gemini generateContent wire format: bodies, streamed chunks, and the contract's `Wire`."""

from __future__ import annotations

import json
from typing import Any, ClassVar

import pytest

from tests.ai.providers.contract import Wire
from tests.support.fake_replies import Events, Json, Raw, Reply, sse_frame

USAGE = {"promptTokenCount": 18, "candidatesTokenCount": 4, "totalTokenCount": 22}


def reply(
    parts: list[dict[str, Any]],
    finish_reason: str | None = "STOP",
    usage: dict[str, int] | None = USAGE,
) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish_reason:
        candidate["finishReason"] = finish_reason
    body: dict[str, Any] = {"candidates": [candidate], "modelVersion": "gemini-2.5-flash"}
    if usage:
        body["usageMetadata"] = usage
    return body


def error(code: int, status: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": "nope", "status": status}}


def broken_reply(**fields: Any) -> Json:
    """A whole reply with these top-level fields replaced."""
    return Json({**reply([{"text": "x"}]), **fields})


def broken_candidate(**fields: Any) -> dict[str, Any]:
    """A reply whose one candidate has these fields replaced (None removes one)."""
    candidate = {**reply([{"text": "x"}])["candidates"][0], **fields}
    return reply([]) | {"candidates": [{k: v for k, v in candidate.items() if v is not None}]}


class GeminiWire(Wire):
    """generateContent bodies, streamed as `data:` events of the same shape."""

    name = "gemini"
    malformed_replies: ClassVar[dict[str, Reply]] = {
        "no candidates": broken_reply(candidates=None),
        "an empty candidate list": broken_reply(candidates=[]),
        "a candidate without content or finish reason": Json(
            broken_candidate(content=None, finishReason=None)
        ),
        "no usage metadata": broken_reply(usageMetadata=None),
        "a function call without a name": Json(
            broken_candidate(content={"role": "model", "parts": [{"functionCall": {"args": {}}}]})
        ),
        "parts that are not a list": Json(
            broken_candidate(content={"role": "model", "parts": "x"})
        ),
        "arguments that are not an object": Json(
            broken_candidate(
                content={"role": "model", "parts": [{"functionCall": {"name": "f", "args": "x"}}]}
            )
        ),
        "a malformed function call": Json(reply([], finish_reason="MALFORMED_FUNCTION_CALL")),
        "a truncated body": Raw(),
        "an HTML page": Raw(b"<html>502 Bad Gateway</html>", "text/html"),
    }
    malformed_streams: ClassVar[dict[str, Reply]] = {
        "a chunk without content or finish reason": Events(
            [broken_candidate(content=None, finishReason=None)]
        ),
        "no usage metadata": Events([reply([{"text": "x"}], usage=None)]),
        "a function call without a name": Events(
            [broken_candidate(content={"role": "model", "parts": [{"functionCall": {}}]})]
        ),
        "a chunk that is not JSON": Events([b"data: {oops\n\n"]),
    }
    keep_alive_frames = (sse_frame(reply([{"text": ""}], finish_reason=None, usage=None)),)

    def settings(self, origin: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
        monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", origin)
        return {"gemini_api_key": "gm-test"}

    def reply(self, text: str) -> Any:
        return reply([{"text": text}])

    def stream(self, text: str, *, finished: bool = True) -> list[object]:
        words = text.split(" ")
        pieces = [word + " " for word in words[:-1]] + words[-1:]
        chunks = [reply([{"text": piece}], finish_reason=None) for piece in pieces]
        if finished:
            chunks[-1]["candidates"][0]["finishReason"] = "STOP"
        return list(chunks)

    def tool_call_reply(self, name: str, raw_arguments: str) -> Any:
        call = {"functionCall": {"id": "fc_1", "name": name, "args": json.loads(raw_arguments)}}
        return reply([call])

    def tool_call_stream(self, name: str, raw_arguments: str) -> list[object]:
        return [self.tool_call_reply(name, raw_arguments)]

    def error(self, status: int) -> Any:
        return error(status, GOOGLE_STATUSES.get(status, "UNKNOWN"))


GOOGLE_STATUSES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
