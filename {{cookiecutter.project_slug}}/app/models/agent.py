"""Agents: a system prompt, a model on a provider, and the tools it may call."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, IdMixin, TimestampMixin

# Changing any of these changes how the agent behaves, so it bumps `version`.
BEHAVIOUR_FIELDS = frozenset(
    {"system_prompt", "provider", "model", "temperature", "max_tokens", "tools"}
)


class Agent(IdMixin, TimestampMixin, Base):
    """A user's configured assistant: what the run loop reads to call a model and tools."""

    __tablename__ = "agents"
    # A name picks one agent (`model` in /v1/chat/completions), so it is unique per owner.
    __table_args__ = (UniqueConstraint("owner_id", "name", name="uq_agents_owner_id_name"),)

    owner_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    system_prompt: Mapped[str] = mapped_column(Text, default="")
    provider: Mapped[str] = mapped_column(String(50))
    model: Mapped[str] = mapped_column(String(100))
    temperature: Mapped[float] = mapped_column(Float, default=0.7)
    max_tokens: Mapped[int] = mapped_column(Integer, default=1024)
    tools: Mapped[list[Any]] = mapped_column(default=list)
    is_active: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
