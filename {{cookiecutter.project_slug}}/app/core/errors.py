"""Domain errors and the handlers that turn them into consistent bodies.

`{"detail": ...}` everywhere, except under `/v1`, where OpenAI clients expect OpenAI's
`{"error": {...}}` (see `app.core.openai_errors`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog
from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.utils import is_body_allowed_for_status_code
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.logging import REQUEST_ID_HEADER, current_request_id
from app.core.openai_errors import is_openai_path, openai_error
from app.core.outages import OUTAGE_ERRORS

OUTAGE_RETRY_AFTER_SECONDS = 5

logger = structlog.get_logger(__name__)


class AppError(Exception):
    """Base for errors a client caused; the status code travels with the error."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(
        self,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """`extra` adds fields to the body beside `detail` (inside `error` under `/v1`)."""
        super().__init__(detail)
        self.detail = detail
        self.headers = headers
        self.extra = extra


class NotFoundError(AppError):
    """Missing, or owned by someone else: both look the same to the caller."""

    status_code = status.HTTP_404_NOT_FOUND


class ConflictError(AppError):
    """The request would duplicate or contradict existing data."""

    status_code = status.HTTP_409_CONFLICT


class PayloadTooLargeError(AppError):
    """A request or the document it names is over a size cap."""

    status_code = status.HTTP_413_CONTENT_TOO_LARGE


class AuthenticationError(AppError):
    """No valid credentials; the header tells clients to send a bearer token."""

    status_code = status.HTTP_401_UNAUTHORIZED

    def __init__(self, detail: str = "Could not validate credentials") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class PermissionDeniedError(AppError):
    """Authenticated, but not allowed to do this."""

    status_code = status.HTTP_403_FORBIDDEN


class RateLimitedError(AppError):
    """Over a rate limit; Retry-After says how many seconds to wait."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "Too many requests; try again later", headers={"Retry-After": str(retry_after)}
        )


class ServiceUnavailableError(AppError):
    """At capacity or missing a dependency for now; Retry-After says when to come back."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE

    def __init__(self, detail: str, *, retry_after: int = 5) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


class UnprocessableError(AppError):
    """Well-formed, but semantically invalid."""

    status_code = status.HTTP_422_UNPROCESSABLE_CONTENT


def error_response(
    path: str,
    detail: Any,
    status_code: int,
    *,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> JSONResponse:
    """One error body for every handler and middleware, in the shape the caller's client reads.

    `detail` is a message, or a list of validation problems (`loc`, `msg`, `type`).
    """
    if is_openai_path(path):
        message, param = _summary(detail)
        body = openai_error(message, status_code, param=param)
        body["error"] |= extra or {}
    else:
        body = {"detail": detail} | dict(extra or {})
    return JSONResponse(body, status_code=status_code, headers=headers)


def _summary(detail: Any) -> tuple[str, str | None]:
    """A validation problem list as one readable line and the field it names."""
    if not isinstance(detail, list):
        return str(detail), None
    first = detail[0] if detail and isinstance(detail[0], dict) else {}
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
    message = str(first.get("msg", "Invalid request"))
    return (f"{where}: {message}" if where else message), where or None


async def _app_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return error_response(
        request.url.path, exc.detail, exc.status_code, headers=exc.headers, extra=exc.extra
    )


async def _http_error_handler(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (an unknown path, a wrong method) in the same shapes."""
    assert isinstance(exc, StarletteHTTPException)
    if not is_body_allowed_for_status_code(exc.status_code):
        return Response(status_code=exc.status_code, headers=exc.headers)
    return error_response(request.url.path, exc.detail, exc.status_code, headers=exc.headers)


async def _validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422 body without each error's `input`, which would echo passwords back."""
    assert isinstance(exc, RequestValidationError)
    errors: list[dict[str, Any]] = [
        {key: value for key, value in error.items() if key != "input"} for error in exc.errors()
    ]
    return error_response(
        request.url.path, jsonable_encoder(errors), status.HTTP_422_UNPROCESSABLE_CONTENT
    )


async def _integrity_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """A 409; the log names the constraint, never the row's values (PostgreSQL quotes them)."""
    cause = getattr(getattr(exc, "orig", None), "__cause__", None)
    logger.info(
        "integrity_error",
        constraint=getattr(cause, "constraint_name", None),
        error_type=type(cause or exc).__name__,
    )
    return error_response(
        request.url.path, "The request conflicts with existing data", status.HTTP_409_CONFLICT
    )


async def _unhandled_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """A generic 500: the traceback goes to the log, never to the client.

    Starlette answers from outside every middleware here, so the request id header is
    added again for the client to quote when reporting the failure.
    """
    logger.exception("unhandled_error", exc_info=exc)
    request_id = current_request_id()
    return error_response(
        request.url.path,
        "Internal server error",
        status.HTTP_500_INTERNAL_SERVER_ERROR,
        headers={REQUEST_ID_HEADER: request_id} if request_id else None,
    )


async def _outage_handler(request: Request, exc: Exception) -> JSONResponse:
    """A database or store that is away: a clean 503 to retry, the cause only in the log."""
    logger.warning("dependency_unavailable", error=repr(exc))
    return error_response(
        request.url.path,
        "The service is temporarily unavailable; try again shortly",
        status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": str(OUTAGE_RETRY_AFTER_SECONDS)},
    )


def register_error_handlers(app: FastAPI) -> None:
    """Install the handlers on an application."""
    app.add_exception_handler(AppError, _app_error_handler)
    app.add_exception_handler(StarletteHTTPException, _http_error_handler)
    for outage in OUTAGE_ERRORS:
        app.add_exception_handler(outage, _outage_handler)
    app.add_exception_handler(RequestValidationError, _validation_error_handler)
    app.add_exception_handler(IntegrityError, _integrity_error_handler)
    app.add_exception_handler(Exception, _unhandled_error_handler)
