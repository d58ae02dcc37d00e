"""Read a request body once and hand it on as if it had never been read."""

from __future__ import annotations

from starlette.types import Message, Receive


class BodyTooLargeError(Exception):
    """The body grew past the limit while it was being read."""


class ClientGoneError(Exception):
    """The client disconnected before sending the whole body."""


async def read_body(receive: Receive, *, max_bytes: int | None = None) -> bytes:
    """The whole body, stopping as soon as it passes `max_bytes`, so no more is held."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGoneError
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if max_bytes is not None and size > max_bytes:
            raise BodyTooLargeError
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that yields `body` first, then whatever the client sends (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
