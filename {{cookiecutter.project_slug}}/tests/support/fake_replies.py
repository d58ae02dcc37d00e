"""What the fake provider answers: well-formed chat completions, and each way a provider fails.

A reply serves one request through an `Exchange`. Those that speak chat completions answer
with a JSON body or, when the request asked for `"stream": true`, with server-sent events, so
one reply serves `complete` and `stream` alike. The rest (`Status`, `Json`, `Raw`, `Events`,
`Hang`) are plain HTTP and answer any vendor's SDK.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from tests.support.fake_provider import Exchange

MODEL = "fake-model"
USAGE = {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}
KEEP_ALIVE_COMMENT = b": keep-alive\n\n"
# The longest a stream waits for a test to release it, so a broken test cannot hang the suite.
RELEASE_LIMIT_SECONDS = 10.0
_PIECE = re.compile(r"\S+\s*|\s+")


class Reply(Protocol):
    """Anything that can answer one request."""

    def serve(self, exchange: Exchange) -> None:
        """Write the whole answer (or deliberately not) to the exchange."""


def completion_body(message: Mapping[str, Any], finish_reason: str | None, number: int) -> Any:
    """A whole chat completion as the OpenAI API sends it."""
    return {
        "id": f"chatcmpl-fake-{number}",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": MODEL,
        "choices": [{"index": 0, "message": dict(message), "finish_reason": finish_reason}],
        "usage": USAGE,
    }


def chunk(delta: Mapping[str, Any], finish_reason: str | None = None, number: int = 1) -> Any:
    """One streamed chunk carrying a delta of the first choice."""
    return {
        "id": f"chatcmpl-fake-{number}",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": MODEL,
        "choices": [{"index": 0, "delta": dict(delta), "finish_reason": finish_reason}],
    }


def usage_chunk(number: int = 1) -> Any:
    """The last chunk before `[DONE]` when the client asked for usage: no choices, only usage."""
    return {**chunk({}, number=number), "choices": [], "usage": USAGE}


def sse_frame(data: object, event: str | None = None) -> bytes:
    """One server-sent event; bytes pass through as an already formatted frame."""
    if isinstance(data, bytes):
        return data
    payload = data if isinstance(data, str) else json.dumps(data)
    return (f"event: {event}\n" if event else "").encode() + f"data: {payload}\n\n".encode()


def text_chunks(text: str, number: int) -> list[Any]:
    """The chunks of a streamed text reply up to, not including, its finish."""
    pieces = [chunk({"content": piece}, number=number) for piece in _PIECE.findall(text)]
    return [chunk({"role": "assistant", "content": ""}, number=number), *pieces]


def finished(chunks: Iterable[Any], finish_reason: str, number: int) -> list[Any]:
    """Chunks closed as OpenAI closes them: the finish reason, usage, then `[DONE]`."""
    return [*chunks, chunk({}, finish_reason, number), usage_chunk(number), "[DONE]"]


def stream_frames(
    exchange: Exchange,
    frames: Sequence[object],
    *,
    release: threading.Event | None = None,
) -> bool:
    """Write frames one by one, optionally holding after the first two.

    With `release`, hold after the opening and the first piece of text until the test
    sets it, to prove the client reads frames as they arrive.
    """
    exchange.start_stream()
    for position, frame in enumerate(frames):
        exchange.write_frame(sse_frame(frame))
        if position == 1 and release is not None:
            deadline_passed = not release.wait(RELEASE_LIMIT_SECONDS)
            if deadline_passed or not exchange.pause(0):
                exchange.cut()
                return False
    return True


@dataclass(frozen=True)
class Text:
    """A plain answer: the happy path, whole or streamed word by word."""

    text: str = "Hello from the fake provider."
    release: threading.Event | None = field(default=None, compare=False)

    def serve(self, exchange: Exchange) -> None:
        """Answer with the text and a `stop` finish reason."""
        number = exchange.request.number
        if not exchange.request.stream:
            message = {"role": "assistant", "content": self.text}
            exchange.send_json(200, completion_body(message, "stop", number))
            return
        frames = finished(text_chunks(self.text, number), "stop", number)
        if stream_frames(exchange, frames, release=self.release):
            exchange.end_stream()


@dataclass(frozen=True, init=False)
class ToolCalls:
    """A turn of tool calls, each `(name, raw argument text)`, sent exactly as given.

    Broken JSON or an unknown tool name is just another pair, and `always(ToolCalls(...))`
    makes a model that calls tools forever.
    """

    calls: tuple[tuple[str, str], ...]

    def __init__(self, *calls: tuple[str, str]) -> None:
        object.__setattr__(self, "calls", calls)

    def serve(self, exchange: Exchange) -> None:
        """Answer with the calls and a `tool_calls` finish reason."""
        number = exchange.request.number
        ids = [f"call_{number}_{index}" for index in range(len(self.calls))]
        if not exchange.request.stream:
            calls = [
                {"id": call_id, "type": "function", "function": {"name": name, "arguments": raw}}
                for call_id, (name, raw) in zip(ids, self.calls, strict=True)
            ]
            message = {"role": "assistant", "content": None, "tool_calls": calls}
            exchange.send_json(200, completion_body(message, "tool_calls", number))
            return
        chunks: list[Any] = [chunk({"role": "assistant", "content": None}, number=number)]
        for index, (call_id, (name, raw)) in enumerate(zip(ids, self.calls, strict=True)):
            opening = {"id": call_id, "type": "function", "function": {"name": name}}
            chunks.append(chunk({"tool_calls": [{"index": index, **opening}]}, number=number))
            # Arguments arrive in fragments, as they do from the real API.
            for part in (raw[: len(raw) // 2], raw[len(raw) // 2 :]):
                fragment = {"index": index, "function": {"arguments": part}}
                chunks.append(chunk({"tool_calls": [fragment]}, number=number))
        stream_frames(exchange, finished(chunks, "tool_calls", number))
        exchange.end_stream()


@dataclass(frozen=True, init=False)
class MissingFields:
    """A text reply with these keys removed wherever they occur: `choices`, `usage`, ...

    `message` also removes a streamed choice's `delta`, and `finish_reason` leaves a stream
    that never says it has finished.
    """

    fields: frozenset[str]

    def __init__(self, *fields: str) -> None:
        names = set(fields) | ({"delta"} if "message" in fields else set())
        object.__setattr__(self, "fields", frozenset(names))

    def serve(self, exchange: Exchange) -> None:
        """Answer with the pruned body or chunks."""
        number = exchange.request.number
        if not exchange.request.stream:
            message = {"role": "assistant", "content": "Half a reply"}
            exchange.send_json(200, _without(completion_body(message, "stop", number), self.fields))
            return
        frames = finished(text_chunks("Half a reply", number), "stop", number)
        stream_frames(exchange, [_without(frame, self.fields) for frame in frames])
        exchange.end_stream()


@dataclass(frozen=True)
class Status:
    """An HTTP error (429, 500, 503, ...), with `Retry-After` when given."""

    status: int
    retry_after: float | str | None = None
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def serve(self, exchange: Exchange) -> None:
        """Answer with the status and an OpenAI-style error body unless one is given."""
        headers = dict(self.headers)
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        body = self.body
        if body is None:
            message = f"the fake provider answered {self.status}"
            body = {"error": {"message": message, "type": "fake_error", "code": self.status}}
        exchange.send_json(self.status, body, headers)


@dataclass(frozen=True)
class Json:
    """Any JSON body with status 200: a reply of the wrong shape."""

    data: Any

    def serve(self, exchange: Exchange) -> None:
        """Answer with the body as given."""
        exchange.send_json(200, self.data)


@dataclass(frozen=True)
class Raw:
    """Bytes as given: a truncated or non-JSON body."""

    body: bytes = b'{"choices": [{"index": 0, "message": {"role": "assist'
    content_type: str = "application/json"

    def serve(self, exchange: Exchange) -> None:
        """Answer with the bytes and status 200."""
        exchange.send(200, self.body, content_type=self.content_type)


@dataclass(frozen=True)
class Events:
    """A stream of any frames (dicts become `data:` JSON; bytes pass through), then an end.

    `cut=True` drops the connection after the frames instead of ending the stream.
    """

    frames: Sequence[object]
    cut: bool = False

    def serve(self, exchange: Exchange) -> None:
        """Stream the frames, then end or cut."""
        stream_frames(exchange, self.frames)
        if self.cut:
            exchange.cut()
        else:
            exchange.end_stream()


@dataclass(frozen=True)
class CutStream:
    """A streamed text reply whose connection drops after `pieces` frames."""

    text: str = "A partial answer that never"
    pieces: int = 3

    def serve(self, exchange: Exchange) -> None:
        """Stream the first frames of the text, then drop the connection."""
        frames = text_chunks(self.text, exchange.request.number)[: self.pieces]
        stream_frames(exchange, frames)
        exchange.cut()


@dataclass(frozen=True)
class KeepAlive:
    """A stream that opens, then only keeps itself alive: comments and empty chunks.

    With `count` it ends cleanly after that many keep-alives, never having finished; without,
    it goes on until the client leaves or the server stops.
    """

    interval: float = 0.05
    count: int | None = None
    frames: Sequence[object] = (KEEP_ALIVE_COMMENT, chunk({}))
    opening: Sequence[object] = (chunk({"role": "assistant", "content": ""}),)

    def serve(self, exchange: Exchange) -> None:
        """Stream the opening, then keep-alives until told to stop."""
        stream_frames(exchange, self.opening)
        sent = 0
        while self.count is None or sent < self.count:
            if not exchange.pause(self.interval):
                return
            exchange.write_frame(sse_frame(self.frames[sent % len(self.frames)]))
            sent += 1
        exchange.end_stream()


@dataclass(frozen=True)
class Hang:
    """No answer for `seconds` (past any client timeout), then `then` if anyone still listens."""

    seconds: float = 30.0
    then: Reply = field(default_factory=Text)

    def serve(self, exchange: Exchange) -> None:
        """Wait, then answer; a stopping server answers nothing."""
        if exchange.pause(self.seconds):
            self.then.serve(exchange)


def _without(data: Any, names: frozenset[str]) -> Any:
    """`data` with the named keys removed from every object inside it."""
    if isinstance(data, dict):
        return {key: _without(value, names) for key, value in data.items() if key not in names}
    if isinstance(data, list):
        return [_without(item, names) for item in data]
    return data
