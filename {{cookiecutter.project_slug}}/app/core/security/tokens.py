"""JSON Web Tokens: the only module that knows which JWT library is used."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from jose import jwt
from jose.exceptions import JOSEError

from app.core.config import Settings
from app.core.errors import AuthenticationError


class TokenType(StrEnum):
    """Carried in the `type` claim, so a refresh token can never pass as an access token."""

    ACCESS = "access"
    REFRESH = "refresh"


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """The verified content of a token."""

    subject: uuid.UUID
    token_type: TokenType
    jti: str
    expires_at: datetime

    def seconds_left(self) -> int:
        """How long a revocation must be remembered for this token."""
        return max(1, int((self.expires_at - datetime.now(UTC)).total_seconds()) + 1)


def create_token(settings: Settings, subject: uuid.UUID, token_type: TokenType) -> str:
    """Sign a token of the given type for a user."""
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
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
    }
    token: str = jwt.encode(
        claims, settings.secret_key.get_secret_value(), algorithm=settings.jwt_algorithm
    )
    return token


def decode_token(settings: Settings, token: str, expected_type: TokenType) -> TokenClaims:
    """Verify signature, expiry and type; any failure is the same 401.

    `algorithms` is always passed, so `alg: none` and algorithm swaps are refused, and
    the library's base error is caught because some failures are not `JWTError`s.
    """
    try:
        payload = jwt.decode(
            token,
            settings.secret_key.get_secret_value(),
            algorithms=[settings.jwt_algorithm],
            options={"require_exp": True, "require_sub": True, "require_jti": True},
        )
        claims = TokenClaims(
            subject=uuid.UUID(str(payload["sub"])),
            token_type=TokenType(payload.get("type")),
            jti=str(payload["jti"]),
            expires_at=datetime.fromtimestamp(int(payload["exp"]), UTC),
        )
    except (JOSEError, KeyError, ValueError, TypeError) as exc:
        raise AuthenticationError() from exc
    if claims.token_type is not expected_type:
        raise AuthenticationError()
    return claims
