"""Organisations: who owns resources together, and what each member may do."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.permissions import Role
from app.db.base import Base, IdMixin, TimestampMixin
from app.db.types import str_enum


class Organization(IdMixin, TimestampMixin, Base):
    """A workspace that owns resources; a user's personal one has only them in it."""

    __tablename__ = "organizations"

    name: Mapped[str] = mapped_column(String(100))
    # Set on a user's personal workspace only: one each, made with the account.
    personal_for_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )

    @property
    def is_personal(self) -> bool:
        """Personal workspaces cannot be deleted, left or shared."""
        return self.personal_for_id is not None


class Membership(IdMixin, TimestampMixin, Base):
    """One user's role in one organisation."""

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint(
            "organization_id", "user_id", name="uq_memberships_organization_id_user_id"
        ),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[Role] = mapped_column(str_enum(Role))


class Invitation(IdMixin, TimestampMixin, Base):
    """An offer to join with a role; its token is shown once and stored as a digest."""

    __tablename__ = "invitations"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    expires_at: Mapped[datetime]


__all__ = ["Invitation", "Membership", "Organization", "Role"]
