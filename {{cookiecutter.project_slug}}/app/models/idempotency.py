"""Idempotency keys: a client's retry of a run it already started finds that run."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.db.types import utc_now

# As long as a key may be: Stripe's limit, room for any UUID or request id a client sends.
KEY_LENGTH = 255


class IdempotencyKey(Base):
    """The execution one user's key started, and a digest of the request that started it.

    The primary key (owner, key) is what makes a key start one run only: of two requests
    with the same key at once, the second one's insert fails and it reads the first's.
    """

    __tablename__ = "idempotency_keys"

    owner_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(KEY_LENGTH), primary_key=True)
    # SHA-256 of the request's endpoint and body, so a key sent with another body is refused.
    request_hash: Mapped[str] = mapped_column(String(64))
    execution_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("executions.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
