"""Structured logging with a request id on every line.

structlog's own events go straight from its processors to the output, so a request's log
line costs a few microseconds; other libraries' lines (uvicorn, SQLAlchemy, httpx) come
through the standard library and are rendered by the same processors, so every line has
one shape and passes the same secret scrubbing. Settings only change the objects the
chain points to, which lets loggers be cached on first use and still follow a new
configuration (tests build many applications in one process).
"""

from __future__ import annotations

import logging
import os
import random
import re
import sys
import time
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any, TextIO

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.config import Settings
from app.core.redaction import Redactor, known_secrets

REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID_HEADER = REQUEST_ID_HEADER.encode()
# Client-chosen ids are echoed into headers and logs, so only a plain token is trusted.
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_METHOD_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "msg": logging.INFO,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "exception": logging.ERROR,
    "critical": logging.CRITICAL,
    "fatal": logging.CRITICAL,
}
# Probes and scrapes that succeed are logged at DEBUG: one every few seconds from each
# load balancer, kubelet and Prometheus would otherwise be most of the log.
QUIET_PATHS = frozenset({"/health", "/health/ready", "/metrics"})
logger = structlog.get_logger("app.request")
# Request ids are unique, not secret: a generator seeded from the OS (again in a forked
# worker) makes one for a fraction of a system call's cost, without touching the
# `random` module's shared state.
_request_ids = random.Random()  # noqa: S311 - ids, not credentials
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_request_ids.seed)


class LineHandler(logging.StreamHandler[TextIO]):
    """The one writer of log lines: structlog's events and the standard library's records.

    Both write through its stream and lock, so lines never interleave and swapping the
    stream (`setStream`) moves every line at once.
    """

    def write_line(self, line: str) -> None:
        """Write one rendered line and flush it, as the standard library's handler does."""
        with self.lock:  # type: ignore[union-attr]  # created in Handler.__init__
            self.stream.write(line + "\n")
            self.stream.flush()


class _Output:
    """What the processor chain currently points at; `configure_logging` replaces it."""

    level = logging.INFO
    redactor = Redactor()
    renderer: structlog.types.Processor = structlog.processors.JSONRenderer()
    handler = LineHandler(sys.stdout)


def _below_level(_logger: Any, method: str, event: MutableMapping[str, Any]) -> Any:
    """Drop an event under the configured level before any other processor runs."""
    if _METHOD_LEVELS.get(method, logging.INFO) < _Output.level:
        raise structlog.DropEvent
    return event


def _redact(logger: Any, method: str, event: MutableMapping[str, Any]) -> Any:
    return _Output.redactor(logger, method, event)


def _render(logger: Any, method: str, event: MutableMapping[str, Any]) -> Any:
    return _Output.renderer(logger, method, event)


class _NamedLogger:
    """The output end of structlog's chain: a name (the `logger` field) and a line writer."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def msg(self, line: str) -> None:
        """Write the rendered line through the current handler."""
        _Output.handler.write_line(line)

    debug = info = warning = warn = error = critical = exception = fatal = log = msg


def _named_logger(*args: Any) -> _NamedLogger:
    return _NamedLogger(str(args[0]) if args else "")


_SHARED: list[structlog.types.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]
# The same list object on every configure: cached loggers keep a reference to it.
_PROCESSORS: list[structlog.types.Processor] = [
    _below_level,
    *_SHARED,
    structlog.processors.format_exc_info,
    # Last before rendering, so tracebacks are cleaned too.
    _redact,
    _render,
]


def configure_logging(settings: Settings, stream: TextIO | None = None) -> None:
    """One renderer for every line: JSON when deployed, readable text on a developer's machine."""
    root = logging.getLogger()
    root.setLevel(settings.log_level.upper())
    _Output.level = root.level
    _Output.redactor = Redactor(known_secrets(dict(settings)))
    _Output.renderer = (
        structlog.processors.JSONRenderer()
        if settings.log_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    _Output.handler = handler = LineHandler(stream or sys.stdout)
    structlog.configure(
        processors=_PROCESSORS,
        logger_factory=_named_logger,
        wrapper_class=structlog.make_filtering_bound_logger(logging.NOTSET),
        cache_logger_on_first_use=True,
    )
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=_SHARED,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                _redact,
                _render,
            ],
        )
    )
    root.handlers = [handler]
    for noisy in ("uvicorn.access", "httpx", "httpx2"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # aiosqlite logs every statement with its bound values at DEBUG.
    logging.getLogger("aiosqlite").setLevel(logging.INFO)
    # uvicorn installs its own handlers before the app exists; its lines (tracebacks of
    # failed responses among them) go through the redacting handler above instead.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True


@contextmanager
def captured_events() -> Iterator[list[dict[str, Any]]]:
    """The events structlog writes while the block runs, as written (scrubbed)."""
    events: list[dict[str, Any]] = []

    def capture(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> Any:
        events.append(dict(event))
        return event

    _PROCESSORS.insert(_PROCESSORS.index(_render), capture)
    try:
        yield events
    finally:
        _PROCESSORS.remove(capture)


def current_request_id() -> str | None:
    """The id of the request being served, for code that answers outside the middleware."""
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    return request_id if isinstance(request_id, str) else None


def _request_id_from(scope: Scope) -> str:
    for name, value in scope.get("headers") or []:
        if name == _REQUEST_ID_HEADER:
            incoming = bytes(value).decode("latin-1")
            if _SAFE_REQUEST_ID.fullmatch(incoming):
                return incoming
            break
    return f"{_request_ids.getrandbits(128):032x}"


class RequestContextMiddleware:
    """Tags each request with an id (taken from the client or made up) and logs its outcome.

    A plain ASGI middleware, so streamed responses pass through untouched.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Bind the request id to the logs of this request and log how it ended."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id_from(scope)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status_code = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (_REQUEST_ID_HEADER, request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _log_request(scope, status_code, started)


def _log_request(scope: Scope, status_code: int, started: float) -> None:
    """One line per request: at DEBUG for a probe that succeeded, at INFO otherwise."""
    level = logging.INFO
    if status_code < 400 and scope["path"] in QUIET_PATHS:
        if _Output.level > logging.DEBUG:
            return  # not even the cost of building an event that would be dropped
        level = logging.DEBUG
    logger.log(
        level,
        "request",
        method=scope["method"],
        path=scope["path"],
        status=status_code,
        duration_ms=round((time.perf_counter() - started) * 1000, 2),
    )
