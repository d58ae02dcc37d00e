"""Long-term memory: short facts an agent keeps about its user, embedded for recall."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, IdMixin, TimestampMixin
from app.db.vector import FloatVector, VectorColumn


class Memory(IdMixin, TimestampMixin, Base):
    """One remembered fact of one user in one organisation, kept by one agent (or a direct call).

    An agent remembers per person: a memory belongs to the organisation its agent ran in
    and stays keyed by the user it is about, so teammates never read each other's. The
    user sees and erases these through `/memories`; `updated_at` is when it was last
    remembered, which recall weighs as recency.
    """

    __tablename__ = "memories"
    __table_args__ = (Index("ix_memories_owner_id_agent_id", "owner_id", "agent_id"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    # The user the memory is about: only they see it, in this organisation.
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    agent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    embedding_model: Mapped[str] = mapped_column(String(200))
    dimension: Mapped[int] = mapped_column(Integer)
    embedding: Mapped[FloatVector] = mapped_column(VectorColumn())
    recalled_at: Mapped[datetime | None] = mapped_column()
