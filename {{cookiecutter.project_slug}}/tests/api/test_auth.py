"""Registration, login, refresh rotation, logout, token validation and auth rate limits."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from jose import jwt
from starlette.types import Message, Receive, Scope, Send

from app.core.config import Settings
from app.core.security import passwords
from app.crud import user as user_crud
from app.db.session import Database
from tests.support.factories import DEFAULT_PASSWORD, AppFactory, UserFactory, client_for
from tests.support.waiting import wait_for

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/users/me"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _sign(claims: dict[str, Any], secret: str, algorithm: str = "HS256") -> str:
    token: str = jwt.encode(claims, secret, algorithm=algorithm)
    return token


def _claims(subject: uuid.UUID, **overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": str(subject),
        "type": "access",
        "jti": uuid.uuid4().hex,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=5)).timestamp()),
    }
    claims.update(overrides)
    return claims


# --- register ---------------------------------------------------------------------------


async def test_register_creates_user_without_exposing_the_hash(
    client: httpx.AsyncClient, database: Database
) -> None:
    response = await client.post(
        REGISTER,
        json={"email": "Ada@Example.com", "password": DEFAULT_PASSWORD, "full_name": "Ada"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {
        "id",
        "email",
        "full_name",
        "role",
        "is_active",
        "created_at",
        "updated_at",
    }
    assert body["email"] == "ada@example.com"
    assert body["full_name"] == "Ada"
    assert body["role"] == "user"
    assert body["is_active"] is True
    async with database.transaction() as session:
        user = await user_crud.get_by_email(session, email="ada@example.com")
    assert user is not None
    assert user.hashed_password.startswith("$2")
    assert user.hashed_password not in response.text
    assert DEFAULT_PASSWORD not in response.text


@pytest.mark.parametrize("second", ["dup@example.com", "DUP@example.com", "Dup@Example.COM"])
async def test_register_refuses_an_existing_email_in_any_case(
    client: httpx.AsyncClient, second: str
) -> None:
    first = await client.post(REGISTER, json={"email": "dup@example.com", "password": "abcdefg1"})
    assert first.status_code == 201
    response = await client.post(REGISTER, json={"email": second, "password": "abcdefg1"})
    assert response.status_code == 409
    assert response.json() == {"detail": "A user with this email already exists"}


@pytest.mark.parametrize(
    ("email", "password"),
    [
        pytest.param("weak@example.com", "abc1234", id="too-short"),
        pytest.param("weak@example.com", "no-digits-here", id="no-digit"),
        pytest.param("weak@example.com", "12345678", id="no-letter"),
        pytest.param("weak@example.com", "a1" * 37, id="over-72-bytes"),
        pytest.param("weak@example.com", "é" * 36 + "1", id="over-72-bytes-multibyte"),
        pytest.param("weak@example.com", " abcdefg1", id="leading-space"),
        pytest.param("not-an-email", "abcdefg1", id="bad-email"),
        pytest.param("", "abcdefg1", id="empty-email"),
    ],
)
async def test_register_refuses_weak_passwords_and_bad_emails(
    client: httpx.AsyncClient, email: str, password: str
) -> None:
    response = await client.post(REGISTER, json={"email": email, "password": password})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert isinstance(detail, list)
    assert detail
    assert all("input" not in error for error in detail), "passwords must not be echoed"


async def test_register_applies_the_configured_minimum_length(make_app: AppFactory) -> None:
    strict = await make_app(password_min_length=12)
    async with client_for(strict) as http:
        short = await http.post(REGISTER, json={"email": "s@example.com", "password": "abcdefg12"})
        long_enough = await http.post(
            REGISTER, json={"email": "s@example.com", "password": "abcdefghij12"}
        )
    assert short.status_code == 422
    assert short.json()["detail"][0]["loc"] == ["body", "password"]
    assert "12 characters" in short.json()["detail"][0]["msg"]
    assert long_enough.status_code == 201


async def test_register_commits_before_the_response_is_sent(
    app: FastAPI, database: Database
) -> None:
    """A client that reads its 201 can log in at once: the row is committed by then."""
    seen_at_response_start: list[bool] = []

    async def probe(scope: Scope, receive: Receive, send: Send) -> None:
        async def checking_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                async with database.transaction() as session:
                    user = await user_crud.get_by_email(session, email="early@example.com")
                seen_at_response_start.append(user is not None)
            await send(message)

        await app(scope, receive, checking_send)

    transport = httpx.ASGITransport(app=probe)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.post(
            REGISTER, json={"email": "early@example.com", "password": DEFAULT_PASSWORD}
        )
    assert response.status_code == 201
    assert seen_at_response_start == [True]


# --- login ------------------------------------------------------------------------------


async def test_login_returns_a_bearer_token_pair(
    client: httpx.AsyncClient, users: UserFactory, settings: Settings
) -> None:
    email = await users.register()
    response = await users.login(email)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == settings.access_token_expire_minutes * 60
    me = await client.get(ME, headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["email"] == email


async def test_login_ignores_email_case(users: UserFactory) -> None:
    email = await users.register("case@example.com")
    response = await users.login(email.upper())
    assert response.status_code == 200


async def test_login_failures_look_the_same_for_wrong_password_and_unknown_email(
    users: UserFactory,
) -> None:
    email = await users.register()
    wrong_password = await users.login(email, "wrong-password-1")
    unknown_email = await users.login("nobody@example.com", DEFAULT_PASSWORD)
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert (
        wrong_password.json() == unknown_email.json() == {"detail": "Incorrect email or password"}
    )
    assert wrong_password.headers["www-authenticate"] == "Bearer"


async def test_login_with_an_overlong_password_is_a_plain_401(users: UserFactory) -> None:
    email = await users.register()
    response = await users.login(email, "x1" * 100)
    assert response.status_code == 401


async def test_login_requires_the_oauth2_form(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    email = await users.register()
    response = await client.post(LOGIN, json={"username": email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 422


async def test_disabled_user_cannot_log_in_and_loses_access(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.signed_in()
    await users.deactivate(user.email)
    login = await users.login(user.email)
    assert login.status_code == 401
    assert login.json() == {"detail": "This account is disabled"}
    assert (await client.get(ME, headers=user.headers)).status_code == 401
    refresh = await client.post(REFRESH, json={"refresh_token": user.refresh_token})
    assert refresh.status_code == 401


async def test_login_hashes_off_the_event_loop(
    client: httpx.AsyncClient, users: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hashing with bcrypt is slow on purpose; run on the event loop it would stall every other request."""
    email = await users.register()
    real_context = passwords._context
    threads: list[threading.Thread] = []

    class RecordingContext:
        def hash(self, secret: str) -> str:
            return str(real_context.hash(secret))

        def verify(self, secret: str, hashed: str) -> bool:
            threads.append(threading.current_thread())
            return bool(real_context.verify(secret, hashed))

    monkeypatch.setattr(passwords, "_context", RecordingContext())

    assert (await users.login(email)).status_code == 200
    assert (await users.login("nobody@example.com")).status_code == 401
    assert len(threads) == 2
    assert all(thread is not threading.main_thread() for thread in threads)


# --- refresh ----------------------------------------------------------------------------


async def test_refresh_rotates_the_pair_and_refuses_reuse(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.signed_in()
    rotated = await client.post(REFRESH, json={"refresh_token": user.refresh_token})
    assert rotated.status_code == 200
    pair = rotated.json()
    assert pair["refresh_token"] != user.refresh_token
    assert pair["token_type"] == "bearer"
    assert (await client.get(ME, headers=bearer(pair["access_token"]))).status_code == 200

    again = await client.post(REFRESH, json={"refresh_token": pair["refresh_token"]})
    assert again.status_code == 200
    assert again.json()["refresh_token"] != pair["refresh_token"]

    reused = await client.post(REFRESH, json={"refresh_token": user.refresh_token})
    assert reused.status_code == 401
    assert reused.json() == {"detail": "Refresh token has already been used or revoked"}


async def test_concurrent_refreshes_with_one_token_succeed_once(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.signed_in()
    responses = await asyncio.gather(
        *(client.post(REFRESH, json={"refresh_token": user.refresh_token}) for _ in range(5))
    )
    assert sorted(r.status_code for r in responses) == [200, 401, 401, 401, 401]
    # The losers presented a spent token: that ends the sign-in, the winner's pair included.
    [winner] = [r.json() for r in responses if r.status_code == 200]
    assert (await client.get(ME, headers=bearer(winner["access_token"]))).status_code == 401
    after = await client.post(REFRESH, json={"refresh_token": winner["refresh_token"]})
    assert after.status_code == 401


async def test_access_token_cannot_be_used_to_refresh(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.signed_in()
    response = await client.post(REFRESH, json={"refresh_token": user.access_token})
    assert response.status_code == 401


async def test_refresh_token_cannot_be_used_as_bearer(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.signed_in()
    response = await client.get(ME, headers=bearer(user.refresh_token))
    assert response.status_code == 401


async def test_refresh_requires_a_token(client: httpx.AsyncClient) -> None:
    assert (await client.post(REFRESH, json={})).status_code == 422
    assert (await client.post(REFRESH, json={"refresh_token": ""})).status_code == 422
    assert (await client.post(REFRESH, json={"refresh_token": "junk"})).status_code == 401


# --- logout -----------------------------------------------------------------------------


async def test_logout_revokes_the_access_and_the_given_refresh_token(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.signed_in()
    response = await client.post(
        LOGOUT, headers=user.headers, json={"refresh_token": user.refresh_token}
    )
    assert response.status_code == 204
    assert response.content == b""
    me = await client.get(ME, headers=user.headers)
    assert me.status_code == 401
    assert me.json() == {"detail": "Token has been revoked"}
    refresh = await client.post(REFRESH, json={"refresh_token": user.refresh_token})
    assert refresh.status_code == 401


async def test_logout_without_a_body_ends_the_whole_sign_in(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    """The refresh token shares the access token's family, so it ends without being sent."""
    user = await users.signed_in()
    elsewhere = (await users.login(user.email)).json()
    assert (await client.post(LOGOUT, headers=user.headers)).status_code == 204
    assert (await client.get(ME, headers=user.headers)).status_code == 401
    refresh = await client.post(REFRESH, json={"refresh_token": user.refresh_token})
    assert refresh.status_code == 401
    # Another sign-in of the same user is another family, and goes on.
    assert (await client.get(ME, headers=bearer(elsewhere["access_token"]))).status_code == 200
    other = await client.post(REFRESH, json={"refresh_token": elsewhere["refresh_token"]})
    assert other.status_code == 200


async def test_logout_with_another_sign_ins_refresh_token_ends_both(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.signed_in()
    elsewhere = (await users.login(user.email)).json()
    response = await client.post(
        LOGOUT, headers=user.headers, json={"refresh_token": elsewhere["refresh_token"]}
    )
    assert response.status_code == 204
    assert (await client.get(ME, headers=bearer(elsewhere["access_token"]))).status_code == 401
    refresh = await client.post(REFRESH, json={"refresh_token": elsewhere["refresh_token"]})
    assert refresh.status_code == 401


async def test_token_responses_are_not_cached(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    email = await users.register()
    login = await users.login(email)
    refreshed = await client.post(REFRESH, json={"refresh_token": login.json()["refresh_token"]})
    for response in (login, refreshed):
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["pragma"] == "no-cache"


async def test_logout_still_succeeds_with_an_unusable_refresh_token(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.signed_in()
    response = await client.post(LOGOUT, headers=user.headers, json={"refresh_token": "junk"})
    assert response.status_code == 204
    assert (await client.get(ME, headers=user.headers)).status_code == 401


async def test_logout_cannot_revoke_someone_elses_refresh_token(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    mallory = await users.signed_in()
    victim = await users.signed_in()
    response = await client.post(
        LOGOUT, headers=mallory.headers, json={"refresh_token": victim.refresh_token}
    )
    assert response.status_code == 204
    refresh = await client.post(REFRESH, json={"refresh_token": victim.refresh_token})
    assert refresh.status_code == 200


async def test_logout_requires_an_access_token(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.signed_in()
    assert (await client.post(LOGOUT)).status_code == 401
    assert (await client.post(LOGOUT, headers=bearer(user.refresh_token))).status_code == 401


# --- token validation -------------------------------------------------------------------


@pytest.fixture
async def signed_in_id(users: UserFactory) -> uuid.UUID:
    return (await users.signed_in()).id


def _expired(subject: uuid.UUID, secret: str) -> str:
    past = datetime.now(UTC) - timedelta(minutes=1)
    claims = _claims(subject, iat=int(past.timestamp()) - 60, exp=int(past.timestamp()))
    return _sign(claims, secret, algorithm="HS256")


def _tampered(subject: uuid.UUID, secret: str) -> str:
    header, payload, signature = _sign(_claims(subject), secret, algorithm="HS256").split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return f"{header}.{payload}.{flipped}"


def _forged_payload(subject: uuid.UUID, secret: str) -> str:
    header, _payload, signature = _sign(_claims(subject), secret, algorithm="HS256").split(".")
    return f"{header}.{_b64(_claims(uuid.uuid4()))}.{signature}"


def _alg_none(subject: uuid.UUID, _secret: str) -> str:
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(subject))}."


def _wrong_secret(subject: uuid.UUID, _secret: str) -> str:
    return _sign(_claims(subject), "another-secret-that-is-long-enough!!", algorithm="HS256")


def _other_algorithm(subject: uuid.UUID, secret: str) -> str:
    return _sign(_claims(subject), secret, algorithm="HS512")


def _without_type(subject: uuid.UUID, secret: str) -> str:
    claims = _claims(subject)
    del claims["type"]
    return _sign(claims, secret, algorithm="HS256")


def _unknown_user(_subject: uuid.UUID, secret: str) -> str:
    return _sign(_claims(uuid.uuid4()), secret, algorithm="HS256")


@pytest.mark.parametrize(
    "make_token",
    [
        _expired,
        _tampered,
        _forged_payload,
        _alg_none,
        _wrong_secret,
        _other_algorithm,
        _without_type,
        _unknown_user,
    ],
)
async def test_invalid_access_tokens_are_refused(
    client: httpx.AsyncClient,
    signed_in_id: uuid.UUID,
    settings: Settings,
    make_token: Callable[[uuid.UUID, str], str],
) -> None:
    token = make_token(signed_in_id, settings.secret_key.get_secret_value())
    response = await client.get(ME, headers=bearer(token))
    assert response.status_code == 401
    assert response.json() == {"detail": "Could not validate credentials"}
    assert response.headers["www-authenticate"] == "Bearer"


async def test_a_well_formed_handmade_token_is_accepted(
    client: httpx.AsyncClient, signed_in_id: uuid.UUID, settings: Settings
) -> None:
    """The control for the test above: the same claims, correctly signed, do work."""
    secret = settings.secret_key.get_secret_value()
    token = jwt.encode(_claims(signed_in_id), secret, algorithm="HS256")
    assert (await client.get(ME, headers=bearer(token))).status_code == 200


@pytest.mark.parametrize(
    "authorization",
    [
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Token abc",
        "Bearer not-a-jwt",
        "Bearer a.b.c",
    ],
)
async def test_malformed_authorization_headers_are_401(
    client: httpx.AsyncClient, authorization: str
) -> None:
    response = await client.get(ME, headers={"Authorization": authorization})
    assert response.status_code == 401
    assert "detail" in response.json()


async def test_missing_authorization_header_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get(ME)
    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}


# --- rate limits ------------------------------------------------------------------------


async def test_login_is_rate_limited_with_retry_after(make_app: AppFactory) -> None:
    limited = await make_app(auth_rate_limit="3/minute")
    async with client_for(limited) as http:
        responses = [
            await http.post(LOGIN, data={"username": "x@example.com", "password": "x"})
            for _ in range(4)
        ]
    assert [r.status_code for r in responses] == [401, 401, 401, 429]
    blocked = responses[-1]
    assert blocked.json() == {"detail": "Too many requests; try again later"}
    assert 1 <= int(blocked.headers["retry-after"]) <= 61


async def test_register_is_rate_limited_separately_from_login(make_app: AppFactory) -> None:
    limited = await make_app(auth_rate_limit="3/minute")
    async with client_for(limited) as http:
        registers = [
            await http.post(REGISTER, json={"email": f"r{i}@example.com", "password": "short"})
            for i in range(4)
        ]
        login = await http.post(LOGIN, data={"username": "x@example.com", "password": "x"})
    assert [r.status_code for r in registers] == [422, 422, 422, 429]
    assert int(registers[-1].headers["retry-after"]) >= 1
    assert login.status_code == 401


async def test_rate_limits_are_per_client_address(make_app: AppFactory) -> None:
    limited = await make_app(auth_rate_limit="1/minute")
    form = {"username": "x@example.com", "password": "x"}
    async with client_for(limited, client=("203.0.113.1", 1000)) as first:
        assert (await first.post(LOGIN, data=form)).status_code == 401
        assert (await first.post(LOGIN, data=form)).status_code == 429
    async with client_for(limited, client=("203.0.113.2", 1000)) as second:
        other_account = {"username": "y@example.com", "password": "x"}
        assert (await second.post(LOGIN, data=other_account)).status_code == 401


async def test_rate_limits_are_per_account_from_any_address(make_app: AppFactory) -> None:
    """Spreading guesses at one account over many addresses does not lift its limit."""
    limited = await make_app(auth_rate_limit="2/minute")
    codes = []
    for number in range(3):
        async with client_for(limited, client=(f"203.0.113.{number}", 1000)) as http:
            form = {"username": "Target@Example.com", "password": f"guess-{number}"}
            codes.append((await http.post(LOGIN, data=form)).status_code)
    assert codes == [401, 401, 429]
    async with client_for(limited, client=("203.0.113.9", 1000)) as http:
        other = await http.post(LOGIN, data={"username": "other@example.com", "password": "x"})
    assert other.status_code == 401


async def test_failed_logins_past_the_free_ones_make_the_account_wait(
    make_app: AppFactory,
) -> None:
    """Even the right password waits out the delay; then it signs in and clears the count."""
    throttled = await make_app(auth_free_failures_per_account=2)
    async with client_for(throttled) as http:
        users = UserFactory(http, throttled.state.database)
        email = await users.register()
        wrong = [(await users.login(email, "wrong-guess-1")).status_code for _ in range(2)]
        assert wrong == [401, 401]
        blocked = await users.login(email)
        assert blocked.status_code == 429
        assert blocked.json() == {"detail": "Too many requests; try again later"}
        assert int(blocked.headers["retry-after"]) == 1

        async def signed_in() -> bool:
            return (await users.login(email)).status_code == 200

        await wait_for(signed_in, message="the one-second delay to pass")
        # The success cleared the series: the next typo is a free one again.
        assert (await users.login(email, "wrong-guess-1")).status_code == 401


async def test_probing_for_taken_emails_is_delayed_too(make_app: AppFactory) -> None:
    throttled = await make_app(auth_free_failures_per_address=2)
    async with client_for(throttled) as http:
        users = UserFactory(http, throttled.state.database)
        taken = [await users.register() for _ in range(3)]
        probes = [
            (await http.post(REGISTER, json={"email": email, "password": DEFAULT_PASSWORD}))
            for email in taken
        ]
    assert [p.status_code for p in probes] == [409, 409, 429]
    assert int(probes[-1].headers["retry-after"]) == 1


async def test_refresh_and_protected_routes_are_not_auth_rate_limited(
    make_app: AppFactory,
) -> None:
    limited = await make_app(auth_rate_limit="1/minute")
    async with client_for(limited) as http:
        users = UserFactory(http, limited.state.database)
        email = await users.register()
        tokens = (await users.login(email)).json()
        for _ in range(3):
            assert (await http.get(ME, headers=bearer(tokens["access_token"]))).status_code == 200
        for _ in range(2):
            refreshed = await http.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
            assert refreshed.status_code == 200
            tokens = refreshed.json()
