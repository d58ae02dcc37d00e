"""Signing and verifying tokens: types, expiry, algorithms and every way a token can be bad."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from jose import jwt

from app.core.config import Settings
from app.core.errors import AuthenticationError
from app.core.security import tokens
from app.core.security.tokens import (
    CLOCK_SKEW_SECONDS,
    TokenClaims,
    TokenType,
    create_token,
    decode_token,
)

SECRET = "unit-test-secret-that-is-long-enough"


@pytest.fixture
def token_settings() -> Settings:
    return Settings(_env_file=None, environment="test", secret_key=SECRET)


def _encode(claims: dict[str, Any], *, key: str = SECRET, algorithm: str = "HS256") -> str:
    token: str = jwt.encode(claims, key, algorithm=algorithm)
    return token


def _claims(**overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": str(uuid.uuid4()),
        "type": "access",
        "jti": uuid.uuid4().hex,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=5)).timestamp()),
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _segment(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize("token_type", list(TokenType))
def test_round_trip(token_settings: Settings, token_type: TokenType) -> None:
    subject = uuid.uuid4()
    claims = decode_token(
        token_settings, create_token(token_settings, subject, token_type), token_type
    )
    assert claims.subject == subject
    assert claims.token_type is token_type
    assert claims.expires_at.tzinfo is not None


def test_access_and_refresh_lifetimes_follow_settings(token_settings: Settings) -> None:
    subject = uuid.uuid4()
    now = datetime.now(UTC)
    access = decode_token(
        token_settings, create_token(token_settings, subject, TokenType.ACCESS), TokenType.ACCESS
    )
    refresh = decode_token(
        token_settings, create_token(token_settings, subject, TokenType.REFRESH), TokenType.REFRESH
    )
    expected_access = now + timedelta(minutes=token_settings.access_token_expire_minutes)
    expected_refresh = now + timedelta(days=token_settings.refresh_token_expire_days)
    assert abs((access.expires_at - expected_access).total_seconds()) <= 2
    assert abs((refresh.expires_at - expected_refresh).total_seconds()) <= 2


def test_every_token_has_its_own_id(token_settings: Settings) -> None:
    subject = uuid.uuid4()
    tokens = {create_token(token_settings, subject, TokenType.REFRESH) for _ in range(3)}
    ids = {decode_token(token_settings, t, TokenType.REFRESH).jti for t in tokens}
    assert len(ids) == 3


@pytest.mark.parametrize(
    ("made", "expected"),
    [(TokenType.ACCESS, TokenType.REFRESH), (TokenType.REFRESH, TokenType.ACCESS)],
)
def test_a_token_of_the_other_type_is_refused(
    token_settings: Settings, made: TokenType, expected: TokenType
) -> None:
    token = create_token(token_settings, uuid.uuid4(), made)
    with pytest.raises(AuthenticationError):
        decode_token(token_settings, token, expected)


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(_encode(_claims(exp=int(datetime.now(UTC).timestamp()) - 10)), id="expired"),
        pytest.param(_encode(_claims(), key="a-different-secret-also-long-enough"), id="wrong-key"),
        pytest.param(_encode(_claims(), algorithm="HS512"), id="other-algorithm"),
        pytest.param(
            f"{_segment({'alg': 'none', 'typ': 'JWT'})}.{_segment(_claims())}.", id="none"
        ),
        pytest.param(
            f"{_segment({'alg': 'HS256', 'typ': 'JWT'})}.{_segment(_claims())}.", id="nosig"
        ),
        pytest.param(_encode(_claims(exp=None)), id="no-exp"),
        pytest.param(_encode(_claims(sub=None)), id="no-sub"),
        pytest.param(_encode(_claims(jti=None)), id="no-jti"),
        pytest.param(_encode(_claims(iat=None)), id="no-iat"),
        pytest.param(_encode(_claims(iat="yesterday")), id="text-iat"),
        pytest.param(_encode(_claims(nbf="later")), id="text-nbf"),
        pytest.param(_encode(_claims(nbf=[1])), id="list-nbf"),
        pytest.param(_encode(_claims(ver=-1)), id="negative-version"),
        pytest.param(_encode(_claims(ver="0")), id="text-version"),
        pytest.param(_encode(_claims(ver=True)), id="bool-version"),
        pytest.param(_encode(_claims(type=None)), id="no-type"),
        pytest.param(_encode(_claims(type="admin")), id="unknown-type"),
        pytest.param(_encode(_claims(sub="not-a-uuid")), id="bad-sub"),
        pytest.param(_encode(_claims(sub=42)), id="numeric-sub"),
        pytest.param("not-a-token", id="garbage"),
        pytest.param("", id="empty"),
        pytest.param("a.b.c", id="bad-segments"),
    ],
)
def test_bad_tokens_raise_authentication_error(token_settings: Settings, token: str) -> None:
    with pytest.raises(AuthenticationError) as caught:
        decode_token(token_settings, token, TokenType.ACCESS)
    assert caught.value.status_code == 401
    assert caught.value.headers == {"WWW-Authenticate": "Bearer"}


def test_a_tampered_signature_is_refused(token_settings: Settings) -> None:
    token = create_token(token_settings, uuid.uuid4(), TokenType.ACCESS)
    head, body, signature = token.split(".")
    tampered = f"{head}.{body}.{signature[::-1]}"
    with pytest.raises(AuthenticationError):
        decode_token(token_settings, tampered, TokenType.ACCESS)


def test_a_changed_payload_is_refused(token_settings: Settings) -> None:
    token = create_token(token_settings, uuid.uuid4(), TokenType.ACCESS)
    head, _body, signature = token.split(".")
    forged = f"{head}.{_segment(_claims())}.{signature}"
    with pytest.raises(AuthenticationError):
        decode_token(token_settings, forged, TokenType.ACCESS)


def test_seconds_left_covers_the_remaining_lifetime() -> None:
    claims = TokenClaims(
        subject=uuid.uuid4(),
        token_type=TokenType.ACCESS,
        jti="x",
        expires_at=datetime.now(UTC) + timedelta(seconds=90),
    )
    assert 90 <= claims.seconds_left() <= 91
    expired = TokenClaims(
        subject=uuid.uuid4(),
        token_type=TokenType.ACCESS,
        jti="x",
        expires_at=datetime.now(UTC) - timedelta(seconds=90),
    )
    assert expired.seconds_left() == 1


def _in(seconds: float) -> float:
    return datetime.now(UTC).timestamp() + seconds


# Offsets from the moment the test runs, not from collection, which may be minutes earlier.
@pytest.mark.parametrize(
    "ahead",
    [
        pytest.param({"iat": CLOCK_SKEW_SECONDS + 60}, id="iat-a-minute-past-the-skew"),
        pytest.param({"iat": 86_400}, id="iat-tomorrow"),
        pytest.param({"nbf": CLOCK_SKEW_SECONDS + 60}, id="nbf-a-minute-past-the-skew"),
        pytest.param({"iat": 0, "nbf": 3_600}, id="nbf-in-an-hour"),
        pytest.param({"nbf": float("inf")}, id="nbf-infinite"),
    ],
)
def test_tokens_from_the_future_are_refused(
    token_settings: Settings, ahead: dict[str, float]
) -> None:
    """A token minted now for use later (or by a server whose clock is ahead) is not valid yet."""
    claims = {name: _in(seconds) for name, seconds in ahead.items()}
    with pytest.raises(AuthenticationError):
        decode_token(token_settings, _encode(_claims(**claims)), TokenType.ACCESS)


@pytest.mark.parametrize(
    "ahead",
    [
        pytest.param({"iat": CLOCK_SKEW_SECONDS - 10}, id="iat-within-the-skew"),
        pytest.param({"nbf": CLOCK_SKEW_SECONDS - 10}, id="nbf-within-the-skew"),
        pytest.param({"nbf": -60}, id="nbf-in-the-past"),
    ],
)
def test_small_clock_skew_is_tolerated(token_settings: Settings, ahead: dict[str, float]) -> None:
    claims = {name: int(_in(seconds)) for name, seconds in ahead.items()}
    decode_token(token_settings, _encode(_claims(**claims)), TokenType.ACCESS)


def test_version_and_family_are_carried(token_settings: Settings) -> None:
    subject = uuid.uuid4()
    token = create_token(token_settings, subject, TokenType.REFRESH, version=3, family="fam-1")
    claims = decode_token(token_settings, token, TokenType.REFRESH)
    assert (claims.version, claims.family) == (3, "fam-1")


def test_each_sign_in_starts_a_new_family(token_settings: Settings) -> None:
    subject = uuid.uuid4()
    families = {
        decode_token(
            token_settings,
            create_token(token_settings, subject, TokenType.ACCESS),
            TokenType.ACCESS,
        ).family
        for _ in range(3)
    }
    assert len(families) == 3


def test_a_token_without_version_or_family_is_version_0_and_its_own_family(
    token_settings: Settings,
) -> None:
    """Tokens signed before versions and families existed keep working until they expire."""
    raw = _claims()
    claims = decode_token(token_settings, _encode(raw), TokenType.ACCESS)
    assert claims.version == 0
    assert claims.family == raw["jti"]


def test_a_token_verified_before_still_expires(
    token_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = create_token(token_settings, uuid.uuid4(), TokenType.ACCESS)
    claims = decode_token(token_settings, token, TokenType.ACCESS)
    assert decode_token(token_settings, token, TokenType.ACCESS) == claims  # verified once
    later = claims.expires_at.timestamp() + 1
    monkeypatch.setattr(tokens, "time", SimpleNamespace(time=lambda: later))
    with pytest.raises(AuthenticationError):
        decode_token(token_settings, token, TokenType.ACCESS)


def test_a_token_verified_before_is_still_refused_as_the_other_type(
    token_settings: Settings,
) -> None:
    token = create_token(token_settings, uuid.uuid4(), TokenType.REFRESH)
    decode_token(token_settings, token, TokenType.REFRESH)
    with pytest.raises(AuthenticationError):
        decode_token(token_settings, token, TokenType.ACCESS)
