"""Conversation queries, always scoped to the owner."""

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
    session: AsyncSession, *, owner_id: uuid.UUID, conversation_id: uuid.UUID
) -> Conversation | None:
    """The owner's conversation, or None for a missing id and for another user's alike."""
    return await session.scalar(
        select(Conversation).where(
            Conversation.id == conversation_id, Conversation.owner_id == owner_id
        )
    )


async def get_page(
    session: AsyncSession,
    *,
    owner_id: uuid.UUID,
    skip: int,
    limit: int,
    agent_id: uuid.UUID | None = None,
    q: str | None = None,
) -> tuple[Sequence[Conversation], int]:
    """Newest first; `q` matches the title, case-insensitively and literally."""
    statement = (
        select(Conversation)
        .where(Conversation.owner_id == owner_id)
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
    owner_id: uuid.UUID,
    agent_id: uuid.UUID,
    title: str = DEFAULT_TITLE,
    meta: Mapping[str, Any] | None = None,
) -> Conversation:
    """Start a conversation; the caller has already checked that the owner has this agent."""
    conversation = Conversation(
        owner_id=owner_id, agent_id=agent_id, title=title, meta=dict(meta or {})
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
