"""Message queries. Messages belong to a conversation; callers check its owner first."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.text import clean_json, clean_text
from app.crud.base import paginate
from app.models import Conversation, Message, MessageRole

# Rows per INSERT when many messages are stored at once: well inside every database's
# limit on bound parameters.
ROWS_PER_INSERT = 200


def new_row(
    *,
    role: MessageRole,
    content: str = "",
    tool_calls: Sequence[dict[str, Any]] = (),
    tool_call_id: str | None = None,
    name: str | None = None,
    input_tokens: int = 0,
    output_tokens: int = 0,
    execution_id: uuid.UUID | None = None,
    incomplete: bool = False,
) -> dict[str, Any]:
    """The columns of a message about to be stored, its id chosen here so none is read back.

    Text from a model or a tool may hold what no database stores; nobody can resend it,
    so it is cleaned rather than refused.
    """
    return {
        "id": uuid.uuid4(),
        "role": role,
        "content": clean_text(content),
        "tool_calls": clean_json(list(tool_calls)),
        "tool_call_id": None if tool_call_id is None else clean_text(tool_call_id),
        "name": None if name is None else clean_text(name),
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "execution_id": execution_id,
        "incomplete": incomplete,
    }


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

    One INSERT ... RETURNING (after the lock described in `append_rows`).
    """
    row = new_row(
        role=role,
        content=content,
        tool_calls=tool_calls,
        tool_call_id=tool_call_id,
        name=name,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        execution_id=execution_id,
        incomplete=incomplete,
    )
    await _take_turn(session, conversation_id)
    values = row | {"conversation_id": conversation_id, "sequence": _next_sequence(conversation_id)}
    message: Message = (
        await session.scalars(insert(Message).values(values).returning(Message))
    ).one()
    return message


async def append_rows(
    session: AsyncSession,
    *,
    conversation_id: uuid.UUID,
    rows: Sequence[dict[str, Any]],
    first_sequence: int | None = None,
) -> None:
    """Add `new_row`s at the end of the conversation, in order, in one statement.

    The next sequence is computed inside the INSERT, which SQLite runs atomically. On
    PostgreSQL the conversation row is locked first (`FOR NO KEY UPDATE`, which still
    lets other rows reference it), so concurrent writers to one conversation take turns
    instead of reading the same highest sequence. A conversation created in this very
    transaction, which nobody else can write to yet, passes `first_sequence` and skips both.
    """
    if not rows:
        return
    if first_sequence is not None:
        numbered = [
            row | {"conversation_id": conversation_id, "sequence": first_sequence + position}
            for position, row in enumerate(rows)
        ]
        await session.execute(insert(Message), numbered)
        return
    await _take_turn(session, conversation_id)
    if len(rows) == 1:
        # A single row's statement is compiled once and cached; a multi-row one is not.
        values = rows[0] | {
            "conversation_id": conversation_id,
            "sequence": _next_sequence(conversation_id),
        }
        await session.execute(insert(Message).values(values))
        return
    for offset in range(0, len(rows), ROWS_PER_INSERT):
        batch = rows[offset : offset + ROWS_PER_INSERT]
        first = _next_sequence(conversation_id)
        await session.execute(
            insert(Message).values(
                [
                    row | {"conversation_id": conversation_id, "sequence": first + position}
                    for position, row in enumerate(batch)
                ]
            )
        )


async def _take_turn(session: AsyncSession, conversation_id: uuid.UUID) -> None:
    """Lock the conversation row on PostgreSQL; SQLite serialises writers on its own."""
    if session.get_bind().dialect.name != "postgresql":
        return
    await session.execute(
        select(Conversation.id)
        .where(Conversation.id == conversation_id)
        .with_for_update(key_share=True)
    )


def _next_sequence(conversation_id: uuid.UUID) -> ColumnElement[int]:
    """The conversation's next position, read by the statement that stores the message."""
    return (
        select(func.coalesce(func.max(Message.sequence), 0) + 1)
        .where(Message.conversation_id == conversation_id)
        .scalar_subquery()
    )


async def revise(session: AsyncSession, *, message_id: uuid.UUID, **changes: Any) -> None:
    """Change a stored message in place: a streamed reply saved as it grows, then finished.

    Its text and tool calls are cleaned as `new_row` cleans them.
    """
    cleaned = {name: clean_json(value) for name, value in changes.items()}
    await session.execute(update(Message).where(Message.id == message_id).values(**cleaned))


async def revise_input(session: AsyncSession, *, execution_id: uuid.UUID, content: str) -> None:
    """Replace the user message that started an execution, as a guardrail redacted it."""
    await session.execute(
        update(Message)
        .where(Message.execution_id == execution_id, Message.role == MessageRole.USER)
        .values(content=clean_text(content))
    )


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
