"""Agent queries, always scoped to one organisation."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.crud import agent_version as version_crud
from app.crud.base import apply_changes, paginate
from app.models import Agent, AgentVersion, KnowledgeBase
from app.models.agent import BEHAVIOUR_FIELDS
from app.schemas.agent import AgentCreate

# A bound on lists that are not paged, such as OpenAI's model list.
MAX_LISTED = 1000


async def get(
    session: AsyncSession, *, organization_id: uuid.UUID, agent_id: uuid.UUID
) -> Agent | None:
    """The organisation's agent, or None for a missing id and another organisation's alike."""
    return await session.scalar(
        select(Agent).where(Agent.id == agent_id, Agent.organization_id == organization_id)
    )


async def get_by_id_or_name(
    session: AsyncSession, *, organization_id: uuid.UUID, key: str
) -> Agent | None:
    """The organisation's agent whose id, or else exact name, is `key`.

    Lets OpenAI-style clients address an agent by a readable name in `model`; names are
    unique per organisation, so the answer is never a guess.
    """
    try:
        agent_id = uuid.UUID(key)
    except ValueError:
        pass
    else:
        found = await get(session, organization_id=organization_id, agent_id=agent_id)
        if found is not None:
            return found
    return await get_by_name(session, organization_id=organization_id, name=key)


async def get_by_name(
    session: AsyncSession, *, organization_id: uuid.UUID, name: str
) -> Agent | None:
    """The organisation's agent called exactly `name`, if any."""
    return await session.scalar(
        select(Agent).where(Agent.organization_id == organization_id, Agent.name == name)
    )


async def list_active(
    session: AsyncSession, *, organization_id: uuid.UUID, limit: int = MAX_LISTED
) -> Sequence[Agent]:
    """The organisation's enabled agents by name, for clients that list them all at once."""
    rows = await session.scalars(
        select(Agent)
        .where(Agent.organization_id == organization_id, Agent.is_active.is_(True))
        .order_by(Agent.name)
        .limit(limit)
    )
    return rows.all()


async def get_page(
    session: AsyncSession,
    *,
    organization_id: uuid.UUID,
    skip: int,
    limit: int,
    q: str | None = None,
    provider: str | None = None,
    is_active: bool | None = None,
) -> tuple[Sequence[Agent], int]:
    """Newest first; `q` matches name or description, case-insensitively and literally."""
    statement = (
        select(Agent)
        .where(Agent.organization_id == organization_id)
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


async def create(
    session: AsyncSession,
    *,
    organization_id: uuid.UUID,
    owner_id: uuid.UUID,
    data: AgentCreate,
    knowledge_bases: Sequence[KnowledgeBase] = (),
) -> Agent:
    """A new agent at version 1 in the organisation, created by `owner_id`.

    It is linked to `knowledge_bases` (checked by the caller); version 1 is recorded with it.
    """
    agent = Agent(
        organization_id=organization_id,
        owner_id=owner_id,
        version=1,
        knowledge_bases=list(knowledge_bases),
        **data.model_dump(exclude={"knowledge_base_ids"}),
    )
    session.add(agent)
    await session.flush()
    await version_crud.record(session, agent=agent)
    return agent


async def update(
    session: AsyncSession,
    *,
    agent: Agent,
    changes: Mapping[str, Any],
    knowledge_bases: Sequence[KnowledgeBase] | None = None,
) -> Agent:
    """Apply what differs; a change to how the agent behaves records a new version.

    `knowledge_bases`, when given, replaces the linked bases (the owner's, checked by
    the caller); a different set changes what the agent knows, so it is a new version.
    The bump is computed by the database, so two concurrent updates both count, each
    recording the number it got.
    """
    effective = {name: value for name, value in changes.items() if getattr(agent, name) != value}
    relinked = knowledge_bases is not None and {base.id for base in knowledge_bases} != set(
        agent.knowledge_base_ids
    )
    if relinked and knowledge_bases is not None:
        agent.knowledge_bases = list(knowledge_bases)
    if not effective and not relinked:
        return agent
    if not relinked and not BEHAVIOUR_FIELDS & effective.keys():
        return await apply_changes(session, agent, effective)
    updated = await apply_changes(session, agent, effective | {"version": Agent.version + 1})
    await version_crud.record(session, agent=updated)
    return updated


async def roll_back(session: AsyncSession, *, agent: Agent, source: AgentVersion) -> Agent:
    """Apply an earlier version's settings as a new version, even when nothing differs.

    Its knowledge bases are linked again, those the owner still has. The new version
    names the one it restored, so the history reads as what happened.
    """
    restored = {name: source.settings[name] for name in BEHAVIOUR_FIELDS & source.settings.keys()}
    # A version recorded before agents had guardrails had none.
    restored.setdefault("guardrails", [])
    if "knowledge_base_ids" in source.settings:
        wanted = [uuid.UUID(value) for value in source.settings["knowledge_base_ids"]]
        agent.knowledge_bases = list(
            await session.scalars(
                select(KnowledgeBase).where(
                    KnowledgeBase.organization_id == agent.organization_id,
                    KnowledgeBase.id.in_(wanted),
                )
            )
        )
    updated = await apply_changes(session, agent, restored | {"version": Agent.version + 1})
    await version_crud.record(session, agent=updated, rolled_back_from=source.version)
    return updated


async def delete(session: AsyncSession, *, agent: Agent) -> None:
    """Remove the agent; its conversations, messages and executions go with it (FK cascades)."""
    await session.delete(agent)
    await session.flush()
