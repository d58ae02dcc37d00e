"""GZip for large responses to clients that accept it; small ones and streams as they are."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse, StreamingResponse

from app.api.middleware.compression import CompressionMiddleware
from tests.support.factories import client_for

LARGE = "all work and no play " * 200


def _app() -> FastAPI:
    application = FastAPI()
    application.add_middleware(CompressionMiddleware, minimum_size=1024)

    @application.get("/large")
    async def large() -> PlainTextResponse:
        return PlainTextResponse(LARGE)

    @application.get("/small")
    async def small() -> PlainTextResponse:
        return PlainTextResponse("short")

    @application.get("/events")
    async def events() -> StreamingResponse:
        async def stream() -> AsyncIterator[str]:
            yield f"data: {LARGE}\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream")

    return application


async def _get(path: str, encoding: str) -> httpx.Response:
    async with client_for(_app()) as http:
        return await http.get(path, headers={"Accept-Encoding": encoding})


async def test_a_large_response_is_gzipped_for_a_client_that_accepts_it() -> None:
    response = await _get("/large", "gzip, deflate")
    assert response.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in response.headers["vary"].lower()
    assert response.text == LARGE  # httpx decodes it
    assert int(response.headers["content-length"]) < len(LARGE) // 10


async def test_a_client_that_does_not_accept_gzip_gets_plain_text() -> None:
    response = await _get("/large", "identity")
    assert "content-encoding" not in response.headers
    assert response.content == LARGE.encode()


async def test_small_responses_and_event_streams_are_not_compressed() -> None:
    small = await _get("/small", "gzip")
    assert "content-encoding" not in small.headers
    events = await _get("/events", "gzip")
    assert "content-encoding" not in events.headers
    assert events.text == f"data: {LARGE}\n\n"
