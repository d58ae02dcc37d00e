"""Tokens signed with the test key but shaped by the test, as an attacker holding it would."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from jose import jwt

from app.core.config import Settings


def forge(settings: Settings, subject: uuid.UUID, **overrides: Any) -> str:
    """A correctly signed access token for `subject`; None in `overrides` drops a claim."""
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": str(subject),
        "type": "access",
        "jti": uuid.uuid4().hex,
        "ver": 0,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=5)).timestamp()),
    }
    claims.update(overrides)
    payload = {name: value for name, value in claims.items() if value is not None}
    secret = settings.secret_key.get_secret_value()
    token: str = jwt.encode(payload, secret, algorithm=settings.jwt_algorithm)
    return token


def seconds_from_now(seconds: int) -> int:
    """A NumericDate `seconds` away from now (negative for the past)."""
    return int(datetime.now(UTC).timestamp()) + seconds
