"""The Anthropic Messages wire format: bodies, named events, and the contract's `Wire`."""

from __future__ import annotations

import json
from typing import Any, ClassVar

import pytest

from tests.ai.providers.contract import Wire
from tests.support.fake_replies import Events, Json, Raw, Reply, sse_frame

MODEL = "claude-haiku-4-5-20251001"


def message_body(
    content: list[dict[str, object]], stop_reason: str = "end_turn"
) -> dict[str, object]:
    return {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": 25, "output_tokens": 7},
    }


MESSAGE_START = (
    "message_start",
    {
        "type": "message_start",
        "message": {
            "id": "msg_01",
            "type": "message",
            "role": "assistant",
            "model": MODEL,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 25, "output_tokens": 1},
        },
    },
)


def block_start(index: int, block: dict[str, object]) -> tuple[str, dict[str, object]]:
    return (
        "content_block_start",
        {"type": "content_block_start", "index": index, "content_block": block},
    )


def block_delta(index: int, delta: dict[str, object]) -> tuple[str, dict[str, object]]:
    return ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})


def block_stop(index: int) -> tuple[str, dict[str, object]]:
    return ("content_block_stop", {"type": "content_block_stop", "index": index})


def message_end(stop_reason: str, output_tokens: int) -> list[tuple[str, dict[str, object]]]:
    return [
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                "usage": {"output_tokens": output_tokens},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]


def frames(*events: tuple[str, Any]) -> list[object]:
    """Named events as the API streams them."""
    return [sse_frame(data, event=name) for name, data in events]


def broken_reply(**fields: Any) -> Json:
    """A whole message with these top-level fields replaced."""
    return Json({**message_body([{"type": "text", "text": "x"}]), **fields})


def broken_stream(*events: tuple[str, Any]) -> Events:
    """A stream of these events, closed as the API closes a message."""
    return Events(frames(*events, *message_end("end_turn", 3)))


class AnthropicWire(Wire):
    """The Messages API's JSON bodies and named server-sent events."""

    name = "anthropic"
    malformed_replies: ClassVar[dict[str, Reply]] = {
        "no content blocks": Json(
            {key: value for key, value in message_body([]).items() if key != "content"}
        ),
        "content that is not a list": broken_reply(content="hello"),
        "a block without a type": broken_reply(content=["hello"]),
        "no usage": broken_reply(usage=None),
        "a tool_use block without a name": broken_reply(
            content=[{"type": "tool_use", "id": "toolu_1", "input": {}}]
        ),
        "text that is not text": broken_reply(content=[{"type": "text", "text": 42}]),
        "a list instead of an object": Json([1, 2]),
        "a truncated body": Raw(),
        "an HTML page": Raw(b"<html>502 Bad Gateway</html>", "text/html"),
    }
    malformed_streams: ClassVar[dict[str, Reply]] = {
        "message_start without a message": broken_stream(
            ("message_start", {"type": "message_start"})
        ),
        "message_start without usage": broken_stream(
            ("message_start", {"type": "message_start", "message": {"model": MODEL}})
        ),
        "an event before message_start": broken_stream(block_start(0, {"type": "text"})),
        "a block delta without its delta": broken_stream(
            MESSAGE_START, ("content_block_delta", {"type": "content_block_delta", "index": 0})
        ),
        "a message delta without its delta": Events(
            frames(
                MESSAGE_START,
                ("message_delta", {"type": "message_delta", "usage": {"output_tokens": 1}}),
                ("message_stop", {"type": "message_stop"}),
            )
        ),
        "an event that is not an object": broken_stream(("message_start", [1, 2])),
        "an event that is not JSON": Events([b"event: message_start\ndata: {oops\n\n"]),
    }
    keep_alive_frames = (sse_frame({"type": "ping"}, event="ping"),)

    def settings(self, origin: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", origin)
        return {"anthropic_api_key": "sk-ant-test"}

    def reply(self, text: str) -> Any:
        return message_body([{"type": "text", "text": text}])

    def stream(self, text: str, *, finished: bool = True) -> list[object]:
        words = text.split(" ") if text else []
        pieces = [word + " " for word in words[:-1]] + words[-1:]
        events = [
            MESSAGE_START,
            block_start(0, {"type": "text", "text": ""}),
            *(block_delta(0, {"type": "text_delta", "text": piece}) for piece in pieces),
        ]
        if finished:
            events += [block_stop(0), *message_end("end_turn", len(pieces))]
        return frames(*events)

    def tool_call_reply(self, name: str, raw_arguments: str) -> Any:
        try:
            arguments = json.loads(raw_arguments)
        except ValueError:
            arguments = raw_arguments
        # The API sends input as an object; anything else is passed on as text, as sent.
        block_input = arguments if isinstance(arguments, dict) else raw_arguments
        block: dict[str, object] = {"type": "tool_use", "id": "toolu_1", "name": name}
        block["input"] = block_input
        return message_body([block], stop_reason="tool_use")

    def tool_call_stream(self, name: str, raw_arguments: str) -> list[object]:
        half = len(raw_arguments) // 2
        return frames(
            MESSAGE_START,
            block_start(0, {"type": "tool_use", "id": "toolu_1", "name": name, "input": {}}),
            *(
                block_delta(0, {"type": "input_json_delta", "partial_json": part})
                for part in (raw_arguments[:half], raw_arguments[half:])
            ),
            block_stop(0),
            *message_end("tool_use", 9),
        )

    def error(self, status: int) -> Any:
        error_type = ANTHROPIC_ERROR_TYPES.get(status, "api_error")
        return {"type": "error", "error": {"type": error_type, "message": "nope"}}


ANTHROPIC_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
}
