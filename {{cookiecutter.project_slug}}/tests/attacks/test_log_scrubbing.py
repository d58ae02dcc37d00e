"""What reaches the log: no password, token, hash, key or email, whatever the flow.

The log output is captured as written (after every processor), through sign-up, sign-in,
refresh, a replayed refresh token, a password change, logout, a unique-key conflict and
a database error with parameters; then every secret the flows handled is searched for.
"""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy import insert, text

from app.api.deps import SessionDep
from app.core.config import Settings
from app.core.redaction import Redactor
from app.crud import user as user_crud
from app.models import User
from tests.support.factories import DEFAULT_PASSWORD, AppFactory, UserFactory, client_for

NEW_PASSWORD = "brand-new-secret-77"


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """The root handler's stream, swapped for a buffer; the original is put back after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    buffer = io.StringIO()
    yield buffer
    root.handlers = handlers
    root.setLevel(level)


@pytest.fixture
async def logged_app(make_app: AppFactory, log_output: io.StringIO) -> FastAPI:
    """An application at DEBUG level whose log lines land in `log_output`."""
    application = await make_app(log_level="DEBUG", log_json=True)
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(log_output)

    async def fail_with_parameters(session: SessionDep, email: str, secret: str) -> None:
        """A query that fails after binding personal values, as a buggy route would."""
        statement = "SELECT id FROM no_such_table WHERE email = :email AND hash = :secret"
        await session.execute(text(statement), {"email": email, "secret": secret})

    async def duplicate(session: SessionDep, email: str, secret: str) -> None:
        """An insert that breaks the unique email, bypassing the route's own check."""
        await session.execute(insert(User).values(email=email, hashed_password=secret))

    application.add_api_route("/test-failures/query", fail_with_parameters, methods=["POST"])
    application.add_api_route("/test-failures/duplicate", duplicate, methods=["POST"])
    return application


async def test_auth_and_error_flows_leave_no_secret_in_the_log(
    logged_app: FastAPI, settings: Settings, log_output: io.StringIO
) -> None:
    email = f"private-{uuid.uuid4().hex[:8]}@example.com"
    async with client_for(logged_app, raise_app_exceptions=False) as http:
        users = UserFactory(http, logged_app.state.database)
        await users.register(email)
        assert (await users.login(email, "wrong-password-9")).status_code == 401
        tokens = (await users.login(email)).json()
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert (await http.get("/api/v1/users/me", headers=headers)).status_code == 200
        rotated = (
            await http.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        ).json()
        replay = await http.post(
            "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        assert replay.status_code == 401
        fresh = (await users.login(email)).json()
        fresh_headers = {"Authorization": f"Bearer {fresh['access_token']}"}
        changed = await http.patch(
            "/api/v1/users/me", headers=fresh_headers, json={"password": NEW_PASSWORD}
        )
        assert changed.status_code == 200
        async with logged_app.state.database.transaction() as session:
            stored = await user_crud.get_by_email(session, email=email)
            assert stored is not None
            password_hash = stored.hashed_password
        last = (await users.login(email, NEW_PASSWORD)).json()
        last_headers = {"Authorization": f"Bearer {last['access_token']}"}
        taken = await http.post(
            "/api/v1/auth/register", json={"email": email, "password": DEFAULT_PASSWORD}
        )
        assert taken.status_code == 409
        failures = {"email": email, "secret": password_hash}
        broken = await http.post("/test-failures/query", params=failures)
        # SQLite reports a missing table as OperationalError, which reads as an outage.
        assert broken.status_code == (503 if settings.is_sqlite else 500)
        conflict = await http.post("/test-failures/duplicate", params=failures)
        assert conflict.status_code == 409
        assert (await http.post("/api/v1/auth/logout", headers=last_headers)).status_code == 204

    output = log_output.getvalue()
    # The flows did log: the request lines, the replay, the failure and the conflict.
    failure = "dependency_unavailable" if settings.is_sqlite else "unhandled_error"
    for event in ("refresh_token_reused", failure, "integrity_error", "/auth/login"):
        assert event in output, event
    secrets = {
        "password": DEFAULT_PASSWORD,
        "wrong password": "wrong-password-9",
        "new password": NEW_PASSWORD,
        "password hash": password_hash,
        "email": email,
        "signing key": settings.secret_key.get_secret_value(),
    }
    for pair in (tokens, rotated, fresh, last):
        secrets["access token"] = pair["access_token"]
        secrets["refresh token"] = pair["refresh_token"]
        for name, value in secrets.items():
            assert value not in output, f"the {name} reached the log"
    # Nor any part of a token that would let it be pieced together: its signature.
    for pair in (tokens, rotated, fresh, last):
        assert pair["access_token"].rsplit(".", 1)[1] not in output


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("short-but-private-key", id="too-short"),
        pytest.param("change-me-in-production", id="placeholder"),
    ],
)
def test_a_refused_signing_key_is_not_repeated_in_the_error(key: str) -> None:
    """Start-up refuses the key and says why, without printing any of it."""
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, environment="production", secret_key=key)
    message = str(refused.value)
    assert "SECRET_KEY" in message
    for start in range(0, len(key) - 6, 3):
        assert key[start : start + 6] not in message


def test_a_database_url_password_is_not_repeated_in_a_settings_error() -> None:
    url = "postgresql+asyncpg://app:hunter2-db-password@db:5432/app"
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, database_url=url, database_pool_size=0)
    assert "hunter2" not in str(refused.value)


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        pytest.param(
            'duplicate key value violates unique constraint "ix_users_email"\n'
            "DETAIL:  Key (email)=(ada@example.com) already exists.",
            'unique constraint "ix_users_email"',
            id="postgres-detail",
        ),
        pytest.param(
            "invalid input for query argument $2: 'ada@example.com' (expected int)",
            "query argument $2:",
            id="asyncpg-argument",
        ),
        pytest.param(
            "could not connect to redis://:s3cret-pass@cache:6379/0",
            "redis://:[redacted]@cache:6379/0",
            id="url-password",
        ),
        pytest.param(
            "[SQL: INSERT INTO users ...]\n[parameters: ('ada@example.com', 'x')]",
            "[SQL: INSERT INTO users ...]",
            id="sqlalchemy-parameters",
        ),
        pytest.param("Authorization: Bearer abcdefghijkl", "Bearer [redacted]", id="bearer"),
        pytest.param("key sk-proj-abcdefghijklmnopqrstu", "key [api-key]", id="openai-key"),
    ],
)
def test_secret_shaped_values_are_redacted(line: str, kept: str) -> None:
    cleaned = Redactor().redact(line)
    assert kept in cleaned
    for private in ("ada@example.com", "s3cret-pass", "abcdefghijkl", "abcdefghijklmnopqrstu"):
        assert private not in cleaned


def test_known_secrets_are_redacted_wherever_they_appear(settings: Settings) -> None:
    key = settings.secret_key.get_secret_value()
    redactor = Redactor([key])
    assert redactor.redact(f"signing with {key}!") == "signing with [secret]!"
