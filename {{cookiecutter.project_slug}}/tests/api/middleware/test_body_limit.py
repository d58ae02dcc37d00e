"""Request bodies over the cap are a 413 before anything reads or parses them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from starlette.types import Message, Receive, Scope, Send

from app.api.middleware.body_limit import BodyLimitMiddleware
from tests.support.factories import AppFactory, client_for

REGISTER = "/api/v1/auth/register"
JSON = {"Content-Type": "application/json"}


async def _chunks(count: int, size: int) -> AsyncIterator[bytes]:
    for _ in range(count):
        yield b"x" * size


async def test_declared_oversized_body_to_a_public_route_is_a_413(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(REGISTER, content=_json_of_size(1_100_000), headers=JSON)

    assert response.status_code == 413
    assert response.json() == {"detail": "Request body must be at most 1000000 bytes"}
    assert response.headers["connection"] == "close"


async def test_chunked_oversized_body_is_a_413_without_reading_the_rest(
    client: httpx.AsyncClient,
) -> None:
    sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        async for chunk in _chunks(1_000, 100_000):
            sent += len(chunk)
            yield chunk

    response = await client.post(REGISTER, content=body(), headers=JSON)

    assert response.status_code == 413
    assert "content-length" not in response.request.headers
    # The 100 MB body stopped being read just past the 1 MB cap.
    assert sent <= 1_200_000


def _json_of_size(size: int) -> bytes:
    """`{}` padded with whitespace: valid JSON of exactly `size` bytes."""
    return b"{}" + b" " * (size - 2)


async def test_a_body_at_the_cap_reaches_the_route(make_app: AppFactory) -> None:
    app = await make_app(max_request_body_bytes=2048)
    async with client_for(app) as client:
        at_cap = await client.post(REGISTER, content=_json_of_size(2048), headers=JSON)
        over = await client.post(REGISTER, content=_json_of_size(2049), headers=JSON)

    assert at_cap.status_code == 422  # validated by the route: email and password missing
    assert over.status_code == 413


async def test_a_route_given_a_larger_cap_accepts_more(make_app: AppFactory) -> None:
    app = await make_app(max_request_body_bytes=2048, request_body_limits={REGISTER: 8192})
    async with client_for(app) as client:
        larger = await client.post(REGISTER, content=_json_of_size(8000), headers=JSON)
        elsewhere = await client.post(
            "/api/v1/auth/refresh", content=_json_of_size(8000), headers=JSON
        )

    assert larger.status_code == 422
    assert elsewhere.status_code == 413


async def test_a_malformed_content_length_is_a_400() -> None:
    reached = False

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal reached
        reached = True

    messages: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        messages.append(message)

    scope: Scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [(b"content-length", b"12abc")],
    }
    await BodyLimitMiddleware(app, max_bytes=1024)(scope, receive, send)

    assert not reached
    assert messages[0]["status"] == 400


async def test_the_route_still_sees_a_client_disconnect_after_the_body() -> None:
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append((await receive())["type"])
        seen.append((await receive())["type"])

    incoming: list[Message] = [
        {"type": "http.request", "body": b"ab", "more_body": True},
        {"type": "http.request", "body": b"cd", "more_body": False},
        {"type": "http.disconnect"},
    ]

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        raise AssertionError("nothing should be sent")

    scope: Scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [(b"transfer-encoding", b"chunked")],
    }
    await BodyLimitMiddleware(app, max_bytes=1024)(scope, receive, send)

    assert seen == ["http.request", "http.disconnect"]
