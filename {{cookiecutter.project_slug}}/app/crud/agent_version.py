"""Agent version history: recorded on every behaviour change, read by the agent's owner."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.crud.base import paginate
from app.models import Agent, AgentKnowledgeBase, AgentVersion
from app.models.agent import BEHAVIOUR_FIELDS


def behaviour_of(agent: Agent) -> dict[str, Any]:
    """The agent's behaviour settings as a plain, JSON-storable dict."""
    return {name: _plain(getattr(agent, name)) for name in sorted(BEHAVIOUR_FIELDS)}


async def _linked_bases(session: AsyncSession, agent: Agent) -> list[str]:
    """The agent's knowledge bases as flushed, read from the links (no lazy load in async)."""
    await session.flush()
    rows = await session.scalars(
        select(AgentKnowledgeBase.base_id)
        .where(AgentKnowledgeBase.agent_id == agent.id)
        .order_by(AgentKnowledgeBase.base_id)
    )
    return [str(base_id) for base_id in rows]


def _plain(value: Any) -> Any:
    """Lists stay lists (tools); everything else is already a JSON scalar."""
    return list(value) if isinstance(value, tuple | list) else value


async def record(
    session: AsyncSession, *, agent: Agent, rolled_back_from: int | None = None
) -> AgentVersion:
    """Snapshot the agent as it stands, under its current version number."""
    row = AgentVersion(
        agent_id=agent.id,
        version=agent.version,
        settings=behaviour_of(agent) | {"knowledge_base_ids": await _linked_bases(session, agent)},
        rolled_back_from=rolled_back_from,
    )
    session.add(row)
    await session.flush()
    return row


async def get(session: AsyncSession, *, agent_id: uuid.UUID, version: int) -> AgentVersion | None:
    """One version of an agent the caller has already checked is theirs."""
    return await session.scalar(
        select(AgentVersion).where(
            AgentVersion.agent_id == agent_id, AgentVersion.version == version
        )
    )


async def get_page(
    session: AsyncSession, *, agent_id: uuid.UUID, skip: int, limit: int
) -> tuple[Sequence[AgentVersion], int]:
    """Newest version first."""
    statement = (
        select(AgentVersion)
        .where(AgentVersion.agent_id == agent_id)
        .order_by(AgentVersion.version.desc())
    )
    return await paginate(session, statement, skip=skip, limit=limit)
