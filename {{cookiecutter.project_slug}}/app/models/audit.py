"""The audit log: append-only, hash-chained entries, and each chain's head."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, IdMixin


class AuditEntry(IdMixin, Base):
    """One security-relevant event; never updated or deleted by the application.

    No foreign keys: an entry must outlive the user, organisation or object it names.
    """

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_organization_id_sequence", "organization_id", "sequence"),
    )

    organization_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    sequence: Mapped[int] = mapped_column(BigInteger)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    client_address: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(index=True)
    details: Mapped[dict[str, Any]] = mapped_column()
    previous_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


class AuditChainHead(Base):
    """The newest entry of one organisation's chain, locked by every append to it.

    `chain_id` is the organisation's id, or the nil UUID for entries without one.
    """

    __tablename__ = "audit_chain_heads"

    chain_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    sequence: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))
