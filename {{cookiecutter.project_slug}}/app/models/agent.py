"""Agents: a system prompt, a model on a provider, and the tools it may call."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import Float, ForeignKey, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import Base, IdMixin, TimestampMixin

if TYPE_CHECKING:
    from app.models.knowledge import KnowledgeBase

# Changing any of these changes how the agent behaves, so it bumps `version`.
BEHAVIOUR_FIELDS = frozenset(
    {"system_prompt", "provider", "model", "temperature", "max_tokens", "tools", "guardrails"}
)


class Agent(IdMixin, TimestampMixin, Base):
    """An organisation's assistant: what the run loop reads to call a model and tools."""

    __tablename__ = "agents"
    # A name picks one agent (`model` in /v1/chat/completions), so it is unique per
    # organisation.
    __table_args__ = (
        UniqueConstraint("organization_id", "name", name="uq_agents_organization_id_name"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    # The user who created it; per-user budgets, limits and audit read it, access does not.
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
    # Checks on input, tool results and output, each a config `app.ai.guardrails` validates.
    guardrails: Mapped[list[Any]] = mapped_column(default=list, server_default=text("'[]'"))
    is_active: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The bases its `search_knowledge` tool searches; loaded with the agent, never lazily.
    knowledge_bases: Mapped[list[KnowledgeBase]] = relationship(
        secondary="agent_knowledge_bases", lazy="selectin", passive_deletes=True
    )

    @property
    def knowledge_base_ids(self) -> list[uuid.UUID]:
        """The linked bases' ids, as the API shows them."""
        return sorted(base.id for base in self.knowledge_bases)
