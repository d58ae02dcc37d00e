"""Error bodies, and one transaction per request: any error after a write rolls it back."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError

from app.api.deps import SessionDep
from app.core.errors import (
    AppError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    UnprocessableError,
    register_error_handlers,
)
from app.core.logging import RequestContextMiddleware
from app.core.security.passwords import hash_password
from app.crud import user as user_crud
from app.db.session import Database
from tests.support.factories import client_for

LEAKY_MESSAGE = "connection to db://admin:hunter2@10.0.0.5 failed"


class Payload(BaseModel):
    password: str
    count: int


def _raiser(error: Exception) -> Callable[[], None]:
    def endpoint() -> None:
        raise error

    return endpoint


def _error_app() -> FastAPI:
    application = FastAPI()
    register_error_handlers(application)
    application.add_middleware(RequestContextMiddleware)
    errors: dict[str, Exception] = {
        "app": AppError("Bad request"),
        "not-found": NotFoundError("Agent not found"),
        "conflict": ConflictError("Already exists"),
        "unauthenticated": AuthenticationError(),
        "forbidden": PermissionDeniedError("Administrator privileges required"),
        "rate-limited": RateLimitedError(retry_after=17),
        "unprocessable": UnprocessableError("The last message must be a user message"),
        "integrity": IntegrityError(
            "INSERT INTO users (email) VALUES (?)",
            {"email": "secret@example.com"},
            Exception("UNIQUE constraint failed: users.email"),
        ),
        "crash": RuntimeError(LEAKY_MESSAGE),
    }
    for name, error in errors.items():
        application.add_api_route(f"/{name}", _raiser(error))

    @application.post("/validate")
    async def validate(payload: Payload) -> Payload:
        return payload

    return application


@pytest.fixture
async def error_client() -> AsyncIterator[httpx.AsyncClient]:
    # Starlette re-raises unhandled errors after answering, for the server to log;
    # the client should still see the 500 the handler produced.
    async with client_for(_error_app(), raise_app_exceptions=False) as http:
        yield http


@pytest.mark.parametrize(
    ("path", "status", "detail"),
    [
        ("/app", 400, "Bad request"),
        ("/not-found", 404, "Agent not found"),
        ("/conflict", 409, "Already exists"),
        ("/unauthenticated", 401, "Could not validate credentials"),
        ("/forbidden", 403, "Administrator privileges required"),
        ("/rate-limited", 429, "Too many requests; try again later"),
        ("/unprocessable", 422, "The last message must be a user message"),
    ],
)
async def test_app_errors_become_detail_bodies(
    error_client: httpx.AsyncClient, path: str, status: int, detail: str
) -> None:
    response = await error_client.get(path)
    assert response.status_code == status
    assert response.json() == {"detail": detail}


async def test_error_headers_travel_with_the_error(error_client: httpx.AsyncClient) -> None:
    unauthenticated = await error_client.get("/unauthenticated")
    limited = await error_client.get("/rate-limited")
    assert unauthenticated.headers["www-authenticate"] == "Bearer"
    assert limited.headers["retry-after"] == "17"


async def test_integrity_errors_are_a_409_without_sql(error_client: httpx.AsyncClient) -> None:
    response = await error_client.get("/integrity")
    assert response.status_code == 409
    assert response.json() == {"detail": "The request conflicts with existing data"}
    assert "INSERT" not in response.text
    assert "secret@example.com" not in response.text


async def test_unhandled_errors_are_a_500_that_leaks_nothing(
    error_client: httpx.AsyncClient,
) -> None:
    response = await error_client.get("/crash", headers={"X-Request-ID": "trace-me-1"})
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error"}
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text
    assert response.headers["x-request-id"] == "trace-me-1"


async def test_validation_errors_keep_the_detail_shape_without_echoing_input(
    error_client: httpx.AsyncClient,
) -> None:
    response = await error_client.post(
        "/validate", json={"password": "hunter2-secret", "count": "many"}
    )
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert [error["loc"] for error in detail] == [["body", "count"]]
    assert {"type", "loc", "msg"} <= set(detail[0])
    assert "input" not in detail[0]
    assert "hunter2-secret" not in response.text
    assert "many" not in response.text


# --- one transaction per request --------------------------------------------------------


def _transaction_app(database: Database) -> FastAPI:
    """Routes that write through the real session dependency, then succeed or fail."""
    router = APIRouter()

    async def add_user(session: SessionDep, email: str) -> None:
        await user_crud.create(session, email=email, hashed_password=await hash_password("x1"))

    @router.post("/write")
    async def write(session: SessionDep) -> dict[str, str]:
        await add_user(session, "kept@example.com")
        return {"status": "written"}

    @router.post("/write-then-refuse")
    async def write_then_refuse(session: SessionDep) -> None:
        await add_user(session, "refused@example.com")
        raise ConflictError("Changed my mind")

    @router.post("/write-then-crash")
    async def write_then_crash(session: SessionDep) -> None:
        await add_user(session, "crashed@example.com")
        raise RuntimeError(LEAKY_MESSAGE)

    @router.post("/write-twice")
    async def write_twice(session: SessionDep) -> None:
        await add_user(session, "twice@example.com")
        await add_user(session, "TWICE@example.com")

    application = FastAPI()
    application.state.database = database
    register_error_handlers(application)
    application.include_router(router)
    return application


async def _emails(database: Database) -> set[str]:
    async with database.transaction() as session:
        page, _total = await user_crud.get_page(session, skip=0, limit=100)
    return {user.email for user in page}


async def test_a_successful_request_commits(database: Database) -> None:
    async with client_for(_transaction_app(database)) as http:
        response = await http.post("/write")
    assert response.status_code == 200
    assert await _emails(database) == {"kept@example.com"}


@pytest.mark.parametrize(
    ("path", "status"),
    [("/write-then-refuse", 409), ("/write-then-crash", 500), ("/write-twice", 409)],
)
async def test_an_error_after_a_flush_rolls_the_whole_request_back(
    database: Database, path: str, status: int
) -> None:
    async with client_for(_transaction_app(database), raise_app_exceptions=False) as http:
        response = await http.post(path)
    assert response.status_code == status
    assert "hunter2" not in response.text
    assert await _emails(database) == set()


async def test_requests_do_not_share_a_transaction(database: Database) -> None:
    async with client_for(_transaction_app(database), raise_app_exceptions=False) as http:
        assert (await http.post("/write")).status_code == 200
        assert (await http.post("/write-then-crash")).status_code == 500
    assert await _emails(database) == {"kept@example.com"}
