"""Message queries. Messages belong to a conversation; callers check its owner first."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.text import clean_json, clean_text
from app.crud.base import paginate
from app.models import Conversation, Message, MessageRole


async def append(
    session: AsyncSession,
    *,
    conversation_id: uuid.UUID,
    role: MessageRole,
    content: str = "",
    tool_calls: Sequence[dict[str, Any]] = (),
    tool_call_id: str | None = None,
    name: str | None = None,
    input_tokens: int = 0,
    output_tokens: int = 0,
    execution_id: uuid.UUID | None = None,
    incomplete: bool = False,
) -> Message:
    """Add a message at the end of the conversation and return it with its sequence.

    The next sequence is computed inside the INSERT, which SQLite runs atomically. On
    PostgreSQL the conversation row is locked first (`FOR NO KEY UPDATE`, which still
    lets other rows reference it), so concurrent writers to one conversation take turns
    instead of reading the same highest sequence.
    """
    await session.execute(
        select(Conversation.id)
        .where(Conversation.id == conversation_id)
        .with_for_update(key_share=True)
    )
    next_sequence = (
        select(func.coalesce(func.max(Message.sequence), 0) + 1)
        .where(Message.conversation_id == conversation_id)
        .scalar_subquery()
    )
    message = Message(
        conversation_id=conversation_id,
        sequence=next_sequence,
        role=role,
        # Text from a model or a tool may hold what no database stores; nobody can resend it.
        content=clean_text(content),
        tool_calls=clean_json(list(tool_calls)),
        tool_call_id=None if tool_call_id is None else clean_text(tool_call_id),
        name=None if name is None else clean_text(name),
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        execution_id=execution_id,
        incomplete=incomplete,
    )
    session.add(message)
    await session.flush()
    await session.refresh(message, attribute_names=["sequence"])
    return message


async def revise(session: AsyncSession, *, message_id: uuid.UUID, **changes: Any) -> None:
    """Change a stored message in place: a streamed reply saved as it grows, then finished."""
    await session.execute(update(Message).where(Message.id == message_id).values(**changes))


async def get_page(
    session: AsyncSession, *, conversation_id: uuid.UUID, skip: int, limit: int
) -> tuple[Sequence[Message], int]:
    """Oldest first, in the exact order the messages were appended."""
    statement = (
        select(Message)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.sequence, Message.id)
    )
    return await paginate(session, statement, skip=skip, limit=limit)


async def list_recent(
    session: AsyncSession, *, conversation_id: uuid.UUID, limit: int
) -> list[Message]:
    """The last `limit` messages, oldest first: the history a model is shown."""
    statement = (
        select(Message)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.sequence.desc(), Message.id.desc())
        .limit(limit)
    )
    newest_first = (await session.scalars(statement)).all()
    return list(reversed(newest_first))
