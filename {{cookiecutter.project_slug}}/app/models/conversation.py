"""Conversations: an ordered thread of messages with one agent."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, IdMixin, TimestampMixin

DEFAULT_TITLE = "New conversation"


class Conversation(IdMixin, TimestampMixin, Base):
    """A thread of messages with one agent, so a run can carry its history."""

    __tablename__ = "conversations"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    # The user who created it; per-user budgets, limits and audit read it, access does not.
    owner_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    agent_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200), default=DEFAULT_TITLE)
    # "metadata" is reserved on declarative classes, so the attribute has another name.
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    # Older turns that no longer fit the model's budget, summarised once and reused.
    summary: Mapped[str | None] = mapped_column(Text, default=None)
    # The sequence number of the last message the summary covers.
    summary_through: Mapped[int | None] = mapped_column(Integer, default=None)
