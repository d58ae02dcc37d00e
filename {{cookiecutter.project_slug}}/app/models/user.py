"""Accounts: the owners of every other resource."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, IdMixin, TimestampMixin
from app.db.types import str_enum

# Changing any of these ends the user's sessions: every token carries the version it
# was issued under, and a bump makes all earlier tokens fail.
SESSION_FIELDS = frozenset({"hashed_password", "role", "is_active"})


class UserRole(StrEnum):
    """What a user may do beyond their own resources: nothing, or administer the service."""

    USER = "user"
    ADMIN = "admin"


class User(IdMixin, TimestampMixin, Base):
    """An account that owns agents, conversations and runs, and signs in by email."""

    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(320), unique=True, index=True)
    hashed_password: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[UserRole] = mapped_column(
        str_enum(UserRole),
        default=UserRole.USER,
    )
    is_active: Mapped[bool] = mapped_column(default=True)
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    @property
    def is_admin(self) -> bool:
        """One place that says what an admin is, for checks in routes and dependencies."""
        return self.role is UserRole.ADMIN
