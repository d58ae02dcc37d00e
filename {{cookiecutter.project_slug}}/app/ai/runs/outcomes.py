"""How a run ends, as stored: its outcome written once, a run stopped before it began, orphans.

The outcome goes in one transaction with the answer (or the reply cut short) and whatever
an outcome hook adds; only the first outcome of a run counts.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession

from app.ai.runs import persistence
from app.ai.runs.types import Draft, PreparedRun
from app.core.logging import current_request_id
from app.crud import execution as execution_crud
from app.db.session import Database
from app.db.types import utc_now
from app.models import Execution, ExecutionStatus

logger = structlog.get_logger(__name__)


def internal_error_message() -> str:
    """What a client reads about a crash: nothing internal, only where the log has it."""
    request_id = current_request_id()
    reference = f" (request id {request_id})" if request_id else ""
    return f"The run failed because of an internal error{reference}"


def failure(status: ExecutionStatus, error_type: str, message: str) -> dict[str, Any]:
    """The Execution changes that record a run ending without an answer."""
    return {"status": status, "error_type": error_type, "error_message": message}


OutcomeHook = Callable[[AsyncSession, PreparedRun, Execution], Awaitable[None]]


async def finish(
    database: Database,
    prepared: PreparedRun,
    draft: Draft,
    changes: dict[str, Any],
    on_finished: OutcomeHook | None = None,
) -> Execution:
    """Record the outcome with the answer, or any reply cut short, in one transaction.

    Only the first outcome counts: a run some other process has already ended keeps its
    outcome and its messages, and this one's reply is not stored beside them.
    `on_finished` writes what else goes with the outcome (a workflow's step), in the
    same transaction.
    """
    message_id = draft.message_id
    async with database.transaction() as session:
        # The row is locked by this update, so a second finisher waits and then finds it ended.
        execution = await execution_crud.change(
            session, execution_id=prepared.execution_id, changes=changes, unfinished_only=True
        )
        if execution is None:
            ended = await execution_crud.get_any(session, execution_id=prepared.execution_id)
            assert ended is not None
            # A resumed run writing its outcome again, or a run another process ended.
            logger.info("execution_already_ended", execution_id=str(prepared.execution_id))
            return ended
        if draft.final is not None:
            await persistence.write_reply(session, prepared, draft.final, draft)
        elif draft.text and (draft.unsaved or draft.message_id is None):
            message_id = await persistence.write_draft(session, prepared, draft)
        if on_finished is not None:
            await on_finished(session, prepared, execution)
    if draft.final is not None:
        draft.text, draft.message_id, draft.saved_length, draft.final = "", None, 0, None
    elif draft.text:
        draft.message_id, draft.saved_length = message_id, len(draft.text)
    return execution


def outcome_of(execution: Execution) -> dict[str, Any]:
    """How the run ended, as its durable workflow returns it; `stored` once it is written."""
    return {
        "status": execution.status.value,
        "output": execution.output or "",
        "error_type": execution.error_type,
        "error_message": execution.error_message,
        "stored": not inspect(execution).transient,
    }


def unrecorded(prepared: PreparedRun, changes: dict[str, Any]) -> Execution:
    """The outcome as it would have been stored, for the final event when no write succeeds."""
    return Execution(
        id=prepared.execution_id,
        organization_id=prepared.organization_id,
        owner_id=prepared.user_id,
        agent_id=prepared.agent.id,
        conversation_id=prepared.conversation_id,
        **changes,
    )


async def record_never_started(
    database: Database, execution_id: uuid.UUID, *, organization_id: uuid.UUID | None
) -> None:
    """A task cancelled before its first step never ran `run`; record the outcome for it.

    A run that has ended, or another organisation's, is left as it is.
    """
    changes = failure(ExecutionStatus.CANCELLED, "cancelled", "Cancelled before it started")
    async with database.transaction() as session:
        await execution_crud.change(
            session,
            execution_id=execution_id,
            organization_id=organization_id,
            changes=changes | {"finished_at": utc_now()},
            unfinished_only=True,
        )


INTERRUPTED = {
    "status": ExecutionStatus.FAILED,
    "error_type": "interrupted",
    "error_message": "The process running this execution stopped",
}


async def fail_orphan(database: Database, execution_id: uuid.UUID) -> Execution | None:
    """Mark one unfinished execution failed as interrupted; the row as it now stands."""
    async with database.transaction() as session:
        failed = await execution_crud.change(
            session,
            execution_id=execution_id,
            changes=INTERRUPTED | {"finished_at": utc_now()},
            unfinished_only=True,
        )
        if failed is not None:
            return failed
        return await execution_crud.get_any(session, execution_id=execution_id)


async def fail_orphans(
    database: Database, *, is_live: Callable[[uuid.UUID], Awaitable[bool]]
) -> int:
    """Mark failed every unfinished execution that no live process is running; count them."""
    async with database.transaction() as session:
        candidates = await execution_crud.list_unfinished(session)
        orphans = [e.id for e in candidates if not await is_live(e.id)]
        return await execution_crud.finish_unfinished(
            session, execution_ids=orphans, changes=INTERRUPTED | {"finished_at": utc_now()}
        )
