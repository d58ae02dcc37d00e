"""Fixtures for the provider tests, which need no database."""

from __future__ import annotations

{% if cookiecutter.use_openai or cookiecutter.use_anthropic or cookiecutter.use_gemini -%}
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx2
{% endif -%}
import pytest


@pytest.fixture(autouse=True)
def _clean_state() -> None:
    """Provider tests touch no database, so the suite-wide table cleanup is skipped."""
{%- if cookiecutter.use_openai or cookiecutter.use_anthropic or cookiecutter.use_gemini %}


Reply = Callable[[httpx2.Request], httpx2.Response]


def sse(*events: tuple[str | None, Any]) -> bytes:
    """Server-sent events as sent on the wire; a None event name sends a bare `data:` line."""
    frames = []
    for name, data in events:
        payload = data if isinstance(data, str) else json.dumps(data)
        frames.append((f"event: {name}\n" if name else "") + f"data: {payload}\n\n")
    return "".join(frames).encode()


class FakeServer:
    """A vendor stand-in: answers each request with the next queued reply, keeps every request.

    It sits behind `httpx2.MockTransport`, below the real SDK, which builds, sends, retries
    and parses exactly as in production.
    """

    def __init__(self) -> None:
        self.requests: list[httpx2.Request] = []
        self._replies: list[Reply] = []

    def reply(
        self, status: int = 200, *, json_body: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        self._replies.append(lambda _: httpx2.Response(status, json=json_body, headers=headers))

    def reply_stream(self, body: bytes) -> None:
        headers = {"content-type": "text/event-stream"}
        self._replies.append(lambda _: httpx2.Response(200, content=body, headers=headers))

    def reply_raw(self, body: bytes, content_type: str = "application/json") -> None:
        headers = {"content-type": content_type}
        self._replies.append(lambda _: httpx2.Response(200, content=body, headers=headers))

    def reply_cut_stream(self, body: bytes) -> None:
        """A stream that sends `body` and then loses its connection."""

        async def chunks() -> AsyncIterator[bytes]:
            yield body
            raise httpx2.RemoteProtocolError("peer closed connection mid-body")

        headers = {"content-type": "text/event-stream"}
        self._replies.append(lambda _: httpx2.Response(200, content=chunks(), headers=headers))

    def time_out(self) -> None:
        def _raise(request: httpx2.Request) -> httpx2.Response:
            raise httpx2.ReadTimeout("timed out", request=request)

        self._replies.append(_raise)

    def client(self) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(transport=httpx2.MockTransport(self._handle))

    def body(self, index: int = -1) -> Any:
        """The JSON body of a received request (the last one by default)."""
        return json.loads(self.requests[index].content)

    def _handle(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        assert self._replies, f"unexpected request: {request.method} {request.url}"
        return self._replies.pop(0)(request)


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()
{%- endif %}
