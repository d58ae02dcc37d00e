"""JSON Web Tokens: the only module that knows which JWT library is used.

The library (python-jose, and the `cryptography` it loads) is imported by the first token
signed or checked, not at start-up: it is a thirtieth of a cold start, and a worker
answers its health checks before anyone signs in.
"""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any

from app.core.config import Settings
from app.core.errors import AuthenticationError

# How far ahead of this server's clock another server's `iat`/`nbf` may be. Beyond it a
# token was minted for later use, or with a skewed clock; either way it is refused.
CLOCK_SKEW_SECONDS = 30


class TokenType(StrEnum):
    """Carried in the `type` claim, so a refresh token can never pass as an access token."""

    ACCESS = "access"
    REFRESH = "refresh"


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """The verified content of a token.

    `version` is the user's token version when it was issued (a later password or role
    change makes it stale); `family` names the sign-in every rotated token descends from.
    """

    subject: uuid.UUID
    token_type: TokenType
    jti: str
    expires_at: datetime
    version: int = 0
    family: str = ""

    def seconds_left(self) -> int:
        """How long a revocation must be remembered for this token."""
        return max(1, int((self.expires_at - datetime.now(UTC)).total_seconds()) + 1)


def new_family() -> str:
    """A fresh family id, for the tokens of one sign-in."""
    return uuid.uuid4().hex


def create_token(
    settings: Settings,
    subject: uuid.UUID,
    token_type: TokenType,
    *,
    version: int = 0,
    family: str | None = None,
) -> str:
    """Sign a token of the given type for a user, in a family (a new one when None)."""
    now = datetime.now(UTC)
    lifetime = (
        timedelta(minutes=settings.access_token_expire_minutes)
        if token_type is TokenType.ACCESS
        else timedelta(days=settings.refresh_token_expire_days)
    )
    claims: dict[str, Any] = {
        "sub": str(subject),
        "type": token_type.value,
        "jti": uuid.uuid4().hex,
        "ver": version,
        "fam": family or new_family(),
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
    }
    from jose import jwt

    token: str = jwt.encode(
        claims, settings.secret_key.get_secret_value(), algorithm=settings.jwt_algorithm
    )
    return token


def decode_token(settings: Settings, token: str, expected_type: TokenType) -> TokenClaims:
    """Verify signature, expiry, issue time and type; any failure is the same 401.

    A token verified before is not verified again (its claims cannot change), but its
    expiry is checked on every call.
    """
    claims = _verified(settings.secret_key.get_secret_value(), settings.jwt_algorithm, token)
    if claims.token_type is not expected_type or claims.expires_at.timestamp() < time.time():
        raise AuthenticationError()
    return claims


# Tokens recently verified, by secret, algorithm and text; failures are never kept.
VERIFIED_TOKENS_KEPT = 4096


@lru_cache(maxsize=VERIFIED_TOKENS_KEPT)
def _verified(secret: str, algorithm: str, token: str) -> TokenClaims:
    """The claims of a token whose signature, expiry and issue time check out.

    `algorithms` is always passed, so `alg: none` and algorithm swaps are refused, and
    the library's base error is caught because some failures are not `JWTError`s.
    """
    from jose import jwt
    from jose.exceptions import JOSEError

    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[algorithm],
            options={
                "require_exp": True,
                "require_sub": True,
                "require_jti": True,
                "require_iat": True,
                # Checked below with the clock-skew allowance; the library allows none.
                "verify_nbf": False,
            },
        )
        _refuse_future_times(payload)
        jti = str(payload["jti"])
        return TokenClaims(
            subject=uuid.UUID(str(payload["sub"])),
            token_type=TokenType(payload.get("type")),
            jti=jti,
            expires_at=datetime.fromtimestamp(int(payload["exp"]), UTC),
            version=_version(payload.get("ver", 0)),
            # Tokens signed before families existed are each a family of their own.
            family=str(payload.get("fam") or jti),
        )
    except (JOSEError, KeyError, ValueError, TypeError, OverflowError) as exc:
        raise AuthenticationError() from exc


def _refuse_future_times(payload: dict[str, Any]) -> None:
    """A token issued, or valid only from, later than now plus the skew is not valid yet."""
    latest = time.time() + CLOCK_SKEW_SECONDS
    for name in ("iat", "nbf"):
        if name not in payload:
            continue
        value = payload[name]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{name} is not a number")
        if not math.isfinite(value) or value > latest:
            raise ValueError(f"{name} is in the future")


def _version(value: object) -> int:
    """The `ver` claim: a non-negative integer, never a bool or a string."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("ver is not a token version")
    return value
