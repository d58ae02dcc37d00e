"""A run's reads and writes: its messages, its Execution row and the history it is shown.

How a run ends is stored by app/ai/runs/outcomes.py.

Each write commits as soon as the thing it records exists, so a failure or a cancel loses
nothing that already happened; what exists at the same moment is written together (the
run's first rows, one step's tool results, the answer and the outcome), each in one
transaction of as few statements as the databases allow.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.ai.providers.base import ChatMessage, Completion, Role, ToolCall
from app.ai.runs.events import tool_call_payload
from app.ai.runs.history import History, to_chat_message
from app.ai.runs.types import AgentSpec, Draft, PreparedRun
from app.ai.tools.manager import ToolResult
from app.core.audit_chain import arguments_hash
from app.core.logging import current_request_id
from app.core.text import clean_text
from app.crud import audit as audit_crud
from app.crud import conversation as conversation_crud
from app.crud import execution as execution_crud
from app.crud import message as message_crud
from app.db.session import Database
from app.models import Agent, Execution, MessageRole
from app.models.conversation import DEFAULT_TITLE

HISTORY_MESSAGE_LIMIT = 200
TITLE_LENGTH = 60


async def store_pending_run(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    agent: Agent,
    message: str,
    conversation_id: uuid.UUID | None,
    prior_messages: Sequence[ChatMessage],
) -> PreparedRun:
    """Add the conversation if new, a pending execution, and earlier turns with the message.

    They belong to the agent's organisation and are recorded as `user_id`'s. A new
    conversation is all written here, so the run is handed its history instead of reading
    it back.
    """
    new = conversation_id is None
    if conversation_id is None:
        conversation = await conversation_crud.create(
            session,
            organization_id=agent.organization_id,
            owner_id=user_id,
            agent_id=agent.id,
            title=message.strip()[:TITLE_LENGTH] or DEFAULT_TITLE,
        )
        conversation_id = conversation.id
    execution = await execution_crud.create(
        session,
        organization_id=agent.organization_id,
        owner_id=user_id,
        agent_id=agent.id,
        conversation_id=conversation_id,
        input=message,
        agent_version=agent.version,
    )
    rows = [
        message_crud.new_row(role=MessageRole(prior.role.value), content=prior.content)
        for prior in prior_messages
    ]
    rows.append(
        message_crud.new_row(role=MessageRole.USER, content=message, execution_id=execution.id)
    )
    await message_crud.append_rows(
        session, conversation_id=conversation_id, rows=rows, first_sequence=1 if new else None
    )
    return PreparedRun(
        execution_id=execution.id,
        conversation_id=conversation_id,
        user_id=user_id,
        organization_id=agent.organization_id,
        agent=AgentSpec.of(agent),
        history=_as_history(rows) if new else None,
        records_start=not new,
    )


def _as_history(rows: Sequence[dict[str, Any]]) -> tuple[ChatMessage, ...]:
    """The messages just stored, as a run reading them back would see them."""
    recent = rows[-HISTORY_MESSAGE_LIMIT:]
    return tuple(
        ChatMessage(role=Role(row["role"].value), content=row["content"])
        for row in recent
        if row["role"] is not MessageRole.SYSTEM
    )


async def start(database: Database, prepared: PreparedRun) -> History:
    """Mark the run running and, unless it came with it, read its history: one transaction.

    The history is the newest stored messages, oldest first, system prompts left out (the
    agent's own is added when it is fitted to the model's budget). A new conversation's
    rows are numbered from 1, so its sequence numbers need no read either.

    Run again by a resumed run whose start was not recorded, it changes nothing: a run
    that has begun keeps its start time, and one that has ended keeps its outcome.
    """
    async with database.transaction() as session:
        await execution_crud.mark_running(session, execution_id=prepared.execution_id)
        given = prepared.history
        if given is not None and len(given) < HISTORY_MESSAGE_LIMIT:
            return History(given, tuple(range(1, len(given) + 1)))
        rows = await message_crud.list_recent(
            session, conversation_id=prepared.conversation_id, limit=HISTORY_MESSAGE_LIMIT
        )
    kept = [row for row in rows if row.role is not MessageRole.SYSTEM]
    return History(tuple(to_chat_message(r) for r in kept), tuple(r.sequence for r in kept))


def _reply_fields(completion: Completion) -> dict[str, Any]:
    """The model's turn as stored: its text, tool calls and token counts."""
    return {
        "content": completion.content,
        "tool_calls": [tool_call_payload(call) for call in completion.tool_calls],
        "input_tokens": completion.usage.input_tokens,
        "output_tokens": completion.usage.output_tokens,
    }


async def store_assistant_message(
    database: Database, prepared: PreparedRun, completion: Completion, draft: Draft
) -> None:
    """Keep the model's turn, its tool calls and its token counts; the draft is finished."""
    async with database.transaction() as session:
        await write_reply(session, prepared, completion, draft)
    draft.text, draft.message_id, draft.saved_length = "", None, 0


async def write_reply(
    session: AsyncSession, prepared: PreparedRun, completion: Completion, draft: Draft
) -> None:
    """Add the finished turn, or complete the draft row it was streamed into."""
    fields = _reply_fields(completion)
    if draft.message_id is not None:
        await message_crud.revise(session, message_id=draft.message_id, incomplete=False, **fields)
        return
    row = message_crud.new_row(
        role=MessageRole.ASSISTANT, execution_id=prepared.execution_id, **fields
    )
    await message_crud.append_rows(session, conversation_id=prepared.conversation_id, rows=[row])


async def save_draft(database: Database, prepared: PreparedRun, draft: Draft) -> None:
    """Store the reply streamed so far, marked incomplete, so a crash cannot lose it."""
    async with database.transaction() as session:
        message_id = await write_draft(session, prepared, draft)
    draft.message_id, draft.saved_length = message_id, len(draft.text)


async def write_draft(session: AsyncSession, prepared: PreparedRun, draft: Draft) -> uuid.UUID:
    """Add the incomplete reply, or bring its stored text up to date; its id."""
    if draft.message_id is not None:
        await message_crud.revise(session, message_id=draft.message_id, content=draft.text)
        return draft.message_id
    row = message_crud.new_row(
        role=MessageRole.ASSISTANT,
        content=draft.text,
        execution_id=prepared.execution_id,
        incomplete=True,
    )
    await message_crud.append_rows(session, conversation_id=prepared.conversation_id, rows=[row])
    message_id: uuid.UUID = row["id"]
    return message_id


async def store_tool_results(
    database: Database,
    prepared: PreparedRun,
    calls: Sequence[ToolCall],
    results: Sequence[ToolResult],
) -> None:
    """Keep one step's tool answers, each linked to the call that asked for it, together.

    Each call is audited with them: the tool's name and a hash of its arguments, never
    the arguments themselves.
    """
    rows = [
        message_crud.new_row(
            role=MessageRole.TOOL,
            content=result.content,
            tool_call_id=result.call_id,
            name=result.name,
            execution_id=prepared.execution_id,
        )
        for result in results
    ]
    async with database.transaction() as session:
        await message_crud.append_rows(session, conversation_id=prepared.conversation_id, rows=rows)
        await audit_crud.record_all(
            session,
            organization_id=prepared.organization_id,
            events=[
                _tool_event(prepared, call, result)
                for call, result in zip(calls, results, strict=True)
            ],
        )


def _tool_event(prepared: PreparedRun, call: ToolCall, result: ToolResult) -> audit_crud.AuditEvent:
    """A tool call as the audit log keeps it: its name and a hash of its arguments."""
    arguments = call.arguments if call.arguments_error is None else call.raw_arguments
    return audit_crud.AuditEvent(
        action="tool.executed",
        actor_id=prepared.user_id,
        target_type="execution",
        target_id=prepared.execution_id,
        request_id=current_request_id(),
        details={
            "tool": clean_text(call.name),
            "call_id": clean_text(call.id),
            "arguments_sha256": arguments_hash(arguments),
            "is_error": result.is_error,
        },
    )


async def read_execution(
    database: Database, execution_id: uuid.UUID, *, organization_id: uuid.UUID | None
) -> Execution | None:
    """The organisation's execution as it stands now; any one's for the runs' own bookkeeping."""
    async with database.transaction() as session:
        if organization_id is None:
            return await execution_crud.get_any(session, execution_id=execution_id)
        return await execution_crud.get(
            session, execution_id=execution_id, organization_id=organization_id
        )


async def load_prepared(database: Database, execution_id: uuid.UUID) -> PreparedRun | None:
    """A stored run as its launch would have handed it over; None once it was deleted."""
    async with database.transaction() as session:
        execution = await session.get(Execution, execution_id)
        agent = None if execution is None else await session.get(Agent, execution.agent_id)
        if execution is None or agent is None:
            return None
        return PreparedRun(
            execution_id=execution.id,
            conversation_id=execution.conversation_id,
            user_id=execution.owner_id,
            organization_id=execution.organization_id,
            agent=AgentSpec.of(agent),
        )


async def with_recorded_organization(database: Database, prepared: PreparedRun) -> PreparedRun:
    """A run recorded before runs carried their organisation, with its execution's."""
    async with database.transaction() as session:
        organization_id = await session.scalar(
            select(Execution.organization_id).where(Execution.id == prepared.execution_id)
        )
    if organization_id is None:
        return prepared
    return replace(prepared, organization_id=organization_id)
