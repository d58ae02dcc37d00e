"""Revoked tokens and token families, kept durably until their tokens expire."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base


class TokenRevocation(Base):
    """One revoked token id or sign-in family, under the key the key-value store uses.

    The store answers checks; these rows let it be refilled after Redis loses its data.
    """

    __tablename__ = "token_revocations"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
