"""User and authentication schemas."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, EmailStr, Field, field_validator

from app.core.config import PASSWORD_MIN_LENGTH
from app.core.security.passwords import BCRYPT_MAX_BYTES, too_short_message
from app.models import UserRole
from app.schemas.common import ReadModel


def check_password_strength(password: str) -> str:
    """A letter, a digit and the minimum length, so guessing is slow; bcrypt's ceiling holds."""
    if len(password) < PASSWORD_MIN_LENGTH:
        raise ValueError(too_short_message(PASSWORD_MIN_LENGTH))
    if len(password.encode()) > BCRYPT_MAX_BYTES:
        raise ValueError(f"Password must be at most {BCRYPT_MAX_BYTES} bytes long")
    if not any(c.isalpha() for c in password) or not any(c.isdigit() for c in password):
        raise ValueError("Password must contain at least one letter and one digit")
    if password.strip() != password:
        raise ValueError("Password must not start or end with whitespace")
    return password


class UserCreate(BaseModel):
    """A sign-up; the password policy is checked here, before anything is hashed."""

    email: EmailStr
    password: str = Field(min_length=1, max_length=256)
    full_name: str | None = Field(default=None, max_length=255)

    _strong = field_validator("password")(check_password_strength)


class UserUpdate(BaseModel):
    """What users may change about themselves."""

    full_name: str | None = Field(default=None, max_length=255)
    password: str | None = Field(default=None, min_length=1, max_length=256)

    _strong = field_validator("password")(
        lambda v: None if v is None else check_password_strength(v)
    )


class UserAdminUpdate(UserUpdate):
    """What administrators may change about anyone."""

    role: UserRole | None = None
    is_active: bool | None = None


class UserRead(ReadModel):
    """A user as clients see it: never the password hash."""

    id: uuid.UUID
    # Plain str: stored addresses were validated on the way in, and re-validating on the
    # way out would turn an address created outside the API into a 500.
    email: str
    full_name: str | None
    role: UserRole
    is_active: bool
    created_at: datetime
    updated_at: datetime


class TokenPair(BaseModel):
    """What login and refresh return, shaped as OAuth2 clients expect."""

    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105
    expires_in: int = Field(description="Seconds until the access token expires")


class RefreshRequest(BaseModel):
    """The refresh token to spend."""

    refresh_token: str = Field(min_length=1, max_length=4096)


class LogoutRequest(BaseModel):
    """Optionally, the refresh token to revoke along with the access token."""

    refresh_token: str | None = Field(default=None, max_length=4096)
