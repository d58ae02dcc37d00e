"""Request ids on responses and log lines; JSON output for production."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import structlog
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.core.errors import register_error_handlers
from app.core.logging import (
    RequestContextMiddleware,
    captured_events,
    configure_logging,
    current_request_id,
)
from tests.support.factories import client_for


@pytest.fixture
def logged() -> Iterator[list[dict[str, Any]]]:
    """Every structlog event the test writes, as written (after scrubbing)."""
    with captured_events() as events:
        yield events


def _events(logged: list[dict[str, Any]], event: str) -> list[dict[str, Any]]:
    return [line for line in logged if line.get("event") == event]


async def test_each_request_is_logged_with_its_id(
    client: httpx.AsyncClient, logged: list[dict[str, Any]]
) -> None:
    response = await client.get("/", headers={"X-Request-ID": "req-42"})
    assert response.headers["x-request-id"] == "req-42"
    [line] = _events(logged, "request")
    assert line["request_id"] == "req-42"
    assert line["method"] == "GET"
    assert line["path"] == "/"
    assert line["status"] == 200
    assert line["duration_ms"] >= 0


async def test_generated_ids_match_between_header_and_log(
    client: httpx.AsyncClient, logged: list[dict[str, Any]]
) -> None:
    first = await client.get("/")
    second = await client.get("/")
    ids = [first.headers["x-request-id"], second.headers["x-request-id"]]
    assert ids[0] != ids[1]
    assert [line["request_id"] for line in _events(logged, "request")] == ids


@pytest.mark.parametrize(
    "incoming", ["has spaces", "x" * 65, "<script>", "new\tline", "", "é".encode("latin-1")]
)
async def test_unsafe_client_ids_are_replaced(
    client: httpx.AsyncClient, incoming: str | bytes
) -> None:
    raw = incoming if isinstance(incoming, bytes) else incoming.encode()
    response = await client.get("/health", headers={b"X-Request-ID": raw})
    generated = response.headers["x-request-id"]
    assert generated != incoming
    assert len(generated) == 32
    int(generated, 16)


async def test_error_responses_carry_the_id_too(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/users/me", headers={"X-Request-ID": "denied-1"})
    assert response.status_code == 401
    assert response.headers["x-request-id"] == "denied-1"
    missing = await client.get("/no-such-route", headers={"X-Request-ID": "lost-1"})
    assert missing.status_code == 404
    assert missing.headers["x-request-id"] == "lost-1"


async def test_query_strings_and_credentials_stay_out_of_the_log(
    client: httpx.AsyncClient, logged: list[dict[str, Any]]
) -> None:
    await client.get(
        "/", params={"token": "sekrit-query"}, headers={"Authorization": "Bearer sekrit"}
    )
    [line] = _events(logged, "request")
    assert line["path"] == "/"
    assert "sekrit" not in json.dumps(logged, default=str)


async def test_probes_that_succeed_are_left_out_at_info(
    client: httpx.AsyncClient, logged: list[dict[str, Any]]
) -> None:
    assert (await client.get("/health")).status_code == 200
    assert (await client.get("/metrics")).status_code == 200
    assert _events(logged, "request") == []


def _probed_app(status_code: int) -> FastAPI:
    application = FastAPI()
    application.add_middleware(RequestContextMiddleware)

    @application.get("/health")
    async def health() -> JSONResponse:
        return JSONResponse({"status": "probed"}, status_code=status_code)

    return application


@pytest.mark.usefixtures("restore_logging")
@pytest.mark.parametrize(
    ("log_level", "status_code", "logged_at"),
    [("info", 503, "info"), ("debug", 200, "debug"), ("info", 200, None)],
)
def test_a_failing_probe_is_logged_and_debug_shows_every_probe(
    logged: list[dict[str, Any]], log_level: str, status_code: int, logged_at: str | None
) -> None:
    configure_logging(Settings(_env_file=None, log_level=log_level))
    with TestClient(_probed_app(status_code)) as http:
        assert http.get("/health").status_code == status_code
    assert [line["level"] for line in _events(logged, "request")] == (
        [logged_at] if logged_at else []
    )


def _crashing_app() -> FastAPI:
    application = FastAPI()
    register_error_handlers(application)
    application.add_middleware(RequestContextMiddleware)

    @application.get("/crash")
    async def crash() -> None:
        raise RuntimeError("boom")

    return application


async def test_an_unhandled_error_is_logged_with_the_request_id(
    logged: list[dict[str, Any]],
) -> None:
    async with client_for(_crashing_app(), raise_app_exceptions=False) as http:
        response = await http.get("/crash", headers={"X-Request-ID": "crash-7"})
    assert response.status_code == 500
    [error] = _events(logged, "unhandled_error")
    assert error["request_id"] == "crash-7"
    [line] = _events(logged, "request")
    assert line["status"] == 500
    assert line["request_id"] == "crash-7"


def test_no_request_id_outside_a_request() -> None:
    structlog.contextvars.clear_contextvars()
    assert current_request_id() is None


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """configure_logging replaces the root handler; put the test run's back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers = handlers
    root.setLevel(level)


def _capture_root_output() -> io.StringIO:
    buffer = io.StringIO()
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)
    return buffer


@pytest.mark.usefixtures("restore_logging")
def test_json_logs_carry_the_bound_request_id() -> None:
    configure_logging(Settings(_env_file=None, log_json=True, log_level="debug"))
    buffer = _capture_root_output()
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id="json-1")
    try:
        structlog.get_logger("app.test").info("agent_ran", tokens=12)
        logging.getLogger("thirdparty").warning("plain %s message", "stdlib")
    finally:
        structlog.contextvars.clear_contextvars()
    first, second = (json.loads(line) for line in buffer.getvalue().splitlines())
    assert first["event"] == "agent_ran"
    assert first["tokens"] == 12
    assert first["request_id"] == "json-1"
    assert first["level"] == "info"
    assert first["logger"] == "app.test"
    assert first["timestamp"].endswith("Z")
    assert second["event"] == "plain stdlib message"
    assert second["request_id"] == "json-1"
    assert second["level"] == "warning"


@pytest.mark.usefixtures("restore_logging")
def test_console_logs_are_readable_lines_and_respect_the_level() -> None:
    configure_logging(Settings(_env_file=None, log_json=False, log_level="warning"))
    buffer = _capture_root_output()
    log = structlog.get_logger("app.test")
    log.info("hidden_event")
    log.warning("shown_event", key="value")
    output = buffer.getvalue()
    assert "hidden_event" not in output
    assert "shown_event" in output
    assert "key=value" in output
    assert not output.lstrip().startswith("{")
