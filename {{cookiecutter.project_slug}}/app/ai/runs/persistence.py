"""A run's reads and writes: its messages, its Execution row and the history it is shown.

Each write is its own short transaction, committed as soon as the thing it records
exists, so a failure or a cancel loses nothing that already happened.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.ai.providers.base import ChatMessage, Completion
from app.ai.runs.events import tool_call_payload
from app.ai.runs.history import fit_to_budget, to_chat_message
from app.ai.runs.types import AgentSpec, Draft, PreparedRun
from app.ai.tools.manager import ToolResult
from app.core.logging import current_request_id
from app.crud import conversation as conversation_crud
from app.crud import execution as execution_crud
from app.crud import message as message_crud
from app.db.session import Database
from app.db.types import utc_now
from app.models import Agent, Execution, ExecutionStatus, MessageRole
from app.models.conversation import DEFAULT_TITLE

HISTORY_MESSAGE_LIMIT = 200
TITLE_LENGTH = 60


def internal_error_message() -> str:
    """What a client reads about a crash: nothing internal, only where the log has it."""
    request_id = current_request_id()
    reference = f" (request id {request_id})" if request_id else ""
    return f"The run failed because of an internal error{reference}"


def failure(status: ExecutionStatus, error_type: str, message: str) -> dict[str, Any]:
    """The Execution changes that record a run ending without an answer."""
    return {"status": status, "error_type": error_type, "error_message": message}


async def store_pending_run(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    agent: Agent,
    message: str,
    conversation_id: uuid.UUID | None,
    prior_messages: Sequence[ChatMessage],
) -> PreparedRun:
    """Add the conversation if new, earlier turns, a pending execution and the user's message."""
    if conversation_id is None:
        conversation = await conversation_crud.create(
            session,
            owner_id=user_id,
            agent_id=agent.id,
            title=message.strip()[:TITLE_LENGTH] or DEFAULT_TITLE,
        )
        conversation_id = conversation.id
    for prior in prior_messages:
        await message_crud.append(
            session,
            conversation_id=conversation_id,
            role=MessageRole(prior.role.value),
            content=prior.content,
        )
    execution = await execution_crud.create(
        session,
        owner_id=user_id,
        agent_id=agent.id,
        conversation_id=conversation_id,
        input=message,
    )
    await message_crud.append(
        session,
        conversation_id=conversation_id,
        role=MessageRole.USER,
        content=message,
        execution_id=execution.id,
    )
    return PreparedRun(
        execution_id=execution.id,
        conversation_id=conversation_id,
        user_id=user_id,
        agent=AgentSpec.of(agent),
    )


async def load_history(
    database: Database, prepared: PreparedRun, *, token_budget: int
) -> list[ChatMessage]:
    """The system prompt and the newest stored messages that fit the model's budget."""
    async with database.transaction() as session:
        rows = await message_crud.list_recent(
            session, conversation_id=prepared.conversation_id, limit=HISTORY_MESSAGE_LIMIT
        )
    stored = [to_chat_message(row) for row in rows if row.role is not MessageRole.SYSTEM]
    return fit_to_budget(prepared.agent.system_prompt, stored, token_budget)


async def store_assistant_message(
    database: Database, prepared: PreparedRun, completion: Completion, draft: Draft
) -> None:
    """Keep the model's turn, its tool calls and its token counts; the draft is finished."""
    fields: dict[str, Any] = {
        "content": completion.content,
        "tool_calls": [tool_call_payload(call) for call in completion.tool_calls],
        "input_tokens": completion.usage.input_tokens,
        "output_tokens": completion.usage.output_tokens,
    }
    async with database.transaction() as session:
        if draft.message_id is None:
            await message_crud.append(
                session,
                conversation_id=prepared.conversation_id,
                role=MessageRole.ASSISTANT,
                execution_id=prepared.execution_id,
                **fields,
            )
        else:
            await message_crud.revise(
                session, message_id=draft.message_id, incomplete=False, **fields
            )
    draft.text, draft.message_id, draft.saved_length = "", None, 0


async def save_draft(database: Database, prepared: PreparedRun, draft: Draft) -> None:
    """Store the reply streamed so far, marked incomplete, so a crash cannot lose it."""
    async with database.transaction() as session:
        message_id = await _write_draft(session, prepared, draft)
    draft.message_id, draft.saved_length = message_id, len(draft.text)


async def _write_draft(session: AsyncSession, prepared: PreparedRun, draft: Draft) -> uuid.UUID:
    """Add the incomplete reply, or bring its stored text up to date; its id."""
    if draft.message_id is not None:
        await message_crud.revise(session, message_id=draft.message_id, content=draft.text)
        return draft.message_id
    message = await message_crud.append(
        session,
        conversation_id=prepared.conversation_id,
        role=MessageRole.ASSISTANT,
        content=draft.text,
        execution_id=prepared.execution_id,
        incomplete=True,
    )
    return message.id


async def store_tool_result(database: Database, prepared: PreparedRun, result: ToolResult) -> None:
    """Keep a tool's answer, linked to the call that asked for it."""
    async with database.transaction() as session:
        await message_crud.append(
            session,
            conversation_id=prepared.conversation_id,
            role=MessageRole.TOOL,
            content=result.content,
            tool_call_id=result.call_id,
            name=result.name,
            execution_id=prepared.execution_id,
        )


async def update_execution(database: Database, prepared: PreparedRun, **changes: Any) -> Execution:
    """Record the run's progress or outcome on its Execution row."""
    async with database.transaction() as session:
        execution = await execution_crud.get(
            session, execution_id=prepared.execution_id, owner_id=prepared.user_id
        )
        assert execution is not None
        return await execution_crud.update(session, execution=execution, changes=changes)


async def finish(
    database: Database, prepared: PreparedRun, draft: Draft, changes: dict[str, Any]
) -> Execution:
    """Record the outcome and any reply cut short, together, in one transaction."""
    message_id = draft.message_id
    async with database.transaction() as session:
        if draft.text and (draft.unsaved or draft.message_id is None):
            message_id = await _write_draft(session, prepared, draft)
        execution = await execution_crud.get(
            session, execution_id=prepared.execution_id, owner_id=prepared.user_id
        )
        assert execution is not None
        execution = await execution_crud.update(session, execution=execution, changes=changes)
    if draft.text:
        draft.message_id, draft.saved_length = message_id, len(draft.text)
    return execution


def unrecorded(prepared: PreparedRun, changes: dict[str, Any]) -> Execution:
    """The outcome as it would have been stored, for the final event when no write succeeds."""
    return Execution(
        id=prepared.execution_id,
        owner_id=prepared.user_id,
        agent_id=prepared.agent.id,
        conversation_id=prepared.conversation_id,
        **changes,
    )


async def read_execution(
    database: Database, execution_id: uuid.UUID, *, owner_id: uuid.UUID
) -> Execution | None:
    """The owner's execution as it stands now."""
    async with database.transaction() as session:
        return await execution_crud.get(session, execution_id=execution_id, owner_id=owner_id)


async def record_never_started(
    database: Database, execution_id: uuid.UUID, *, owner_id: uuid.UUID | None
) -> None:
    """A task cancelled before its first step never ran `run`; record the outcome for it."""
    async with database.transaction() as session:
        execution = await execution_crud.get_any(session, execution_id=execution_id)
        if execution is None or execution.status.is_final:
            return
        if owner_id is not None and execution.owner_id != owner_id:
            return
        await execution_crud.update(
            session,
            execution=execution,
            changes=failure(ExecutionStatus.CANCELLED, "cancelled", "Cancelled before it started")
            | {"finished_at": utc_now()},
        )


INTERRUPTED = {
    "status": ExecutionStatus.FAILED,
    "error_type": "interrupted",
    "error_message": "The process running this execution stopped",
}


async def fail_orphan(database: Database, execution_id: uuid.UUID) -> Execution | None:
    """Mark one unfinished execution failed as interrupted; the row as it now stands."""
    async with database.transaction() as session:
        execution = await execution_crud.get_any(session, execution_id=execution_id)
        if execution is None or execution.status.is_final:
            return execution
        return await execution_crud.update(
            session, execution=execution, changes=INTERRUPTED | {"finished_at": utc_now()}
        )


async def fail_orphans(
    database: Database, *, is_live: Callable[[uuid.UUID], Awaitable[bool]]
) -> int:
    """Mark failed every unfinished execution that no live process is running; count them."""
    async with database.transaction() as session:
        candidates = await execution_crud.list_unfinished(session)
        orphans = [e.id for e in candidates if not await is_live(e.id)]
        failed = 0
        for execution_id in orphans:
            changes = INTERRUPTED | {"finished_at": utc_now()}
            failed += await execution_crud.finish_if_unfinished(
                session, execution_id=execution_id, changes=changes
            )
    return failed
