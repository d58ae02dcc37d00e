"""Agent queries, always scoped to the owner."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.crud.base import apply_changes, paginate
from app.models import Agent
from app.models.agent import BEHAVIOUR_FIELDS
from app.schemas.agent import AgentCreate

# A bound on lists that are not paged, such as OpenAI's model list.
MAX_LISTED = 1000


async def get(session: AsyncSession, *, owner_id: uuid.UUID, agent_id: uuid.UUID) -> Agent | None:
    """The owner's agent, or None for a missing id and for another user's alike."""
    return await session.scalar(
        select(Agent).where(Agent.id == agent_id, Agent.owner_id == owner_id)
    )


async def get_by_id_or_name(
    session: AsyncSession, *, owner_id: uuid.UUID, key: str
) -> Agent | None:
    """The owner's agent whose id, or else exact name, is `key`.

    Lets OpenAI-style clients address an agent by a readable name in `model`; names are
    unique per owner, so the answer is never a guess.
    """
    try:
        agent_id = uuid.UUID(key)
    except ValueError:
        pass
    else:
        found = await get(session, owner_id=owner_id, agent_id=agent_id)
        if found is not None:
            return found
    return await get_by_name(session, owner_id=owner_id, name=key)


async def get_by_name(session: AsyncSession, *, owner_id: uuid.UUID, name: str) -> Agent | None:
    """The owner's agent called exactly `name`, if any."""
    return await session.scalar(select(Agent).where(Agent.owner_id == owner_id, Agent.name == name))


async def list_active(
    session: AsyncSession, *, owner_id: uuid.UUID, limit: int = MAX_LISTED
) -> Sequence[Agent]:
    """The owner's enabled agents by name, for clients that list them all at once."""
    rows = await session.scalars(
        select(Agent)
        .where(Agent.owner_id == owner_id, Agent.is_active.is_(True))
        .order_by(Agent.name)
        .limit(limit)
    )
    return rows.all()


async def get_page(
    session: AsyncSession,
    *,
    owner_id: uuid.UUID,
    skip: int,
    limit: int,
    q: str | None = None,
    provider: str | None = None,
    is_active: bool | None = None,
) -> tuple[Sequence[Agent], int]:
    """Newest first; `q` matches name or description, case-insensitively and literally."""
    statement = (
        select(Agent)
        .where(Agent.owner_id == owner_id)
        .order_by(Agent.created_at.desc(), Agent.id.desc())
    )
    if q:
        statement = statement.where(
            or_(
                Agent.name.icontains(q, autoescape=True),
                Agent.description.icontains(q, autoescape=True),
            )
        )
    if provider is not None:
        statement = statement.where(Agent.provider == provider)
    if is_active is not None:
        statement = statement.where(Agent.is_active == is_active)
    return await paginate(session, statement, skip=skip, limit=limit)


async def create(session: AsyncSession, *, owner_id: uuid.UUID, data: AgentCreate) -> Agent:
    """A new agent at version 1, owned by `owner_id`."""
    agent = Agent(owner_id=owner_id, version=1, **data.model_dump())
    session.add(agent)
    await session.flush()
    return agent


async def update(session: AsyncSession, *, agent: Agent, changes: Mapping[str, Any]) -> Agent:
    """Apply what differs; a change to how the agent behaves bumps its version.

    The bump is computed by the database, so two concurrent updates both count.
    """
    effective = {name: value for name, value in changes.items() if getattr(agent, name) != value}
    if not effective:
        return agent
    if BEHAVIOUR_FIELDS & effective.keys():
        effective["version"] = Agent.version + 1
    return await apply_changes(session, agent, effective)


async def delete(session: AsyncSession, *, agent: Agent) -> None:
    """Remove the agent; its conversations, messages and executions go with it (FK cascades)."""
    await session.delete(agent)
    await session.flush()
