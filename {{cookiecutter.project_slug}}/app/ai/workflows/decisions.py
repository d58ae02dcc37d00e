"""Approval decisions: a person's (or a timeout's) recorded once, then read by the run.

A decision is claimed with a conditional update on the waiting record, so of two people
deciding at once one wins and the other is told it was already decided; the run reads
the decision back and announces it, after it has been woken.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.ai.workflows.records import ACTIVE, add_event, in_transaction
from app.db.session import Database
from app.db.types import utc_now
from app.models import StepStatus, WorkflowRun, WorkflowRunStatus, WorkflowStepRecord


async def claim_decision(
    database: Database,
    record_id: uuid.UUID,
    *,
    approved: bool,
    comment: str | None,
    edited: str | None,
    decided_by: uuid.UUID | None,
) -> bool:
    """Record a decision on a waiting approval; False when it was already decided."""

    async def work(session: AsyncSession) -> bool:
        result = await session.execute(
            update(WorkflowStepRecord)
            .where(
                WorkflowStepRecord.id == record_id,
                WorkflowStepRecord.status == StepStatus.WAITING,
            )
            .values(
                status=StepStatus.APPROVED if approved else StepStatus.REJECTED,
                comment=comment,
                output=edited,
                decided_by=decided_by,
                finished_at=utc_now(),
            )
        )
        return bool(getattr(result, "rowcount", 0))

    return await in_transaction(database, work)


async def unclaim_decision(database: Database, record_id: uuid.UUID) -> None:
    """Put an approval back to waiting when its decision could not be delivered."""
    async with database.transaction() as session:
        await session.execute(
            update(WorkflowStepRecord)
            .where(WorkflowStepRecord.id == record_id)
            .values(status=StepStatus.WAITING, comment=None, output=None, decided_by=None)
        )
        run_id = await session.scalar(
            select(WorkflowStepRecord.run_id).where(WorkflowStepRecord.id == record_id)
        )
        await session.execute(
            update(WorkflowRun)
            .where(WorkflowRun.id == run_id, WorkflowRun.status == WorkflowRunStatus.RUNNING)
            .values(status=WorkflowRunStatus.WAITING, updated_at=utc_now())
        )


async def read_decision(database: Database, record_id: uuid.UUID) -> dict[str, Any]:
    """The decision stored on an approval, announced as an event once the run has it."""

    async def work(session: AsyncSession) -> dict[str, Any]:
        record = await session.get(WorkflowStepRecord, record_id)
        assert record is not None
        decision = {
            "step": record.step_id,
            "iteration": record.iteration,
            "approved": record.status == StepStatus.APPROVED,
            "comment": record.comment,
            "edited": record.output,
            "decided_by": None if record.decided_by is None else str(record.decided_by),
        }
        await add_event(session, record.run_id, "approval.decided", decision)
        await session.execute(
            update(WorkflowRun)
            .where(WorkflowRun.id == record.run_id, WorkflowRun.status.in_(ACTIVE))
            .values(status=WorkflowRunStatus.RUNNING, updated_at=utc_now())
        )
        return decision

    return await in_transaction(database, work)


async def claim_waiting(
    session: AsyncSession,
    run_id: uuid.UUID,
    step_id: str,
    *,
    approved: bool,
    comment: str | None,
    edited: str | None,
    decided_by: uuid.UUID,
) -> uuid.UUID | None:
    """Record a person's decision on the step's waiting approval; its record, or None."""
    record_id = await session.scalar(
        select(WorkflowStepRecord.id).where(
            WorkflowStepRecord.run_id == run_id,
            WorkflowStepRecord.step_id == step_id,
            WorkflowStepRecord.status == StepStatus.WAITING,
        )
    )
    if record_id is None:
        return None
    result = await session.execute(
        update(WorkflowStepRecord)
        .where(WorkflowStepRecord.id == record_id, WorkflowStepRecord.status == StepStatus.WAITING)
        .values(
            status=StepStatus.APPROVED if approved else StepStatus.REJECTED,
            comment=comment,
            output=edited,
            decided_by=decided_by,
            finished_at=utc_now(),
        )
    )
    if not getattr(result, "rowcount", 0):
        return None
    await session.execute(
        update(WorkflowRun)
        .where(WorkflowRun.id == run_id, WorkflowRun.status == WorkflowRunStatus.WAITING)
        .values(status=WorkflowRunStatus.RUNNING, updated_at=utc_now())
    )
    return record_id
