"""Conversation queries, always scoped to one organisation."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.crud.base import apply_changes, paginate
from app.models import Conversation
from app.models.conversation import DEFAULT_TITLE


async def get(
    session: AsyncSession, *, organization_id: uuid.UUID, conversation_id: uuid.UUID
) -> Conversation | None:
    """The organisation's conversation; None for a missing id and another organisation's alike."""
    return await session.scalar(
        select(Conversation).where(
            Conversation.id == conversation_id, Conversation.organization_id == organization_id
        )
    )


async def get_page(
    session: AsyncSession,
    *,
    organization_id: uuid.UUID,
    skip: int,
    limit: int,
    agent_id: uuid.UUID | None = None,
    q: str | None = None,
) -> tuple[Sequence[Conversation], int]:
    """Newest first; `q` matches the title, case-insensitively and literally."""
    statement = (
        select(Conversation)
        .where(Conversation.organization_id == organization_id)
        .order_by(Conversation.created_at.desc(), Conversation.id.desc())
    )
    if agent_id is not None:
        statement = statement.where(Conversation.agent_id == agent_id)
    if q:
        statement = statement.where(Conversation.title.icontains(q, autoescape=True))
    return await paginate(session, statement, skip=skip, limit=limit)


async def create(
    session: AsyncSession,
    *,
    organization_id: uuid.UUID,
    owner_id: uuid.UUID,
    agent_id: uuid.UUID,
    title: str = DEFAULT_TITLE,
    meta: Mapping[str, Any] | None = None,
) -> Conversation:
    """Start a conversation; the caller has checked that the organisation has this agent."""
    conversation = Conversation(
        organization_id=organization_id,
        owner_id=owner_id,
        agent_id=agent_id,
        title=title,
        meta=dict(meta or {}),
    )
    session.add(conversation)
    await session.flush()
    return conversation


async def update(
    session: AsyncSession, *, conversation: Conversation, changes: Mapping[str, Any]
) -> Conversation:
    """Rename or replace metadata; the agent a conversation talks to never changes."""
    return await apply_changes(session, conversation, changes)


async def delete(session: AsyncSession, *, conversation: Conversation) -> None:
    """Remove the conversation; its messages and executions go with it (FK cascades)."""
    await session.delete(conversation)
    await session.flush()
