"""Agent versions: the behaviour settings an agent had, kept unchanged for good."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, IdMixin
from app.db.types import utc_now


class AgentVersion(IdMixin, Base):
    """One numbered snapshot of an agent's behaviour settings; rows are never updated."""

    __tablename__ = "agent_versions"
    __table_args__ = (
        UniqueConstraint("agent_id", "version", name="uq_agent_versions_agent_id_version"),
    )

    agent_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    # The agent's BEHAVIOUR_FIELDS by name, so a field added later needs no new column.
    settings: Mapped[dict[str, Any]] = mapped_column()
    rolled_back_from: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
