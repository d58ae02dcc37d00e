"""A workflow run's writes: its status, one record per pass through a step, its events.

Every change is written with the event that announces it, in one transaction, so a
stream replayed from the events table never shows a change the rows do not have. Events
are numbered per run; two writers racing for a number retry with the next one.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.ai.runs.types import PreparedRun
from app.db.session import Database
from app.db.types import utc_now
from app.models import (
    Execution,
    ExecutionStatus,
    StepStatus,
    WorkflowEvent,
    WorkflowRun,
    WorkflowRunStatus,
    WorkflowStepRecord,
)

T = TypeVar("T")
ACTIVE = (WorkflowRunStatus.PENDING, WorkflowRunStatus.RUNNING, WorkflowRunStatus.WAITING)
FINAL_EVENTS = frozenset({"run.completed", "run.failed", "run.cancelled"})
SEQUENCE_ATTEMPTS = 5


async def add_event(
    session: AsyncSession, run_id: uuid.UUID, name: str, data: dict[str, Any]
) -> int:
    """Append an event numbered one past the run's last; its number."""
    last = await session.scalar(
        select(func.max(WorkflowEvent.sequence)).where(WorkflowEvent.run_id == run_id)
    )
    sequence = int(last or 0) + 1
    session.add(
        WorkflowEvent(run_id=run_id, sequence=sequence, name=name, data=data, created_at=utc_now())
    )
    await session.flush()
    return sequence


async def in_transaction(database: Database, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in its own transaction, again when another writer took its event number."""
    for attempt in range(SEQUENCE_ATTEMPTS):
        try:
            async with database.transaction() as session:
                return await work(session)
        except IntegrityError:
            if attempt == SEQUENCE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


async def _record(
    session: AsyncSession, run_id: uuid.UUID, step_id: str, iteration: int
) -> WorkflowStepRecord | None:
    return await session.scalar(
        select(WorkflowStepRecord).where(
            WorkflowStepRecord.run_id == run_id,
            WorkflowStepRecord.step_id == step_id,
            WorkflowStepRecord.iteration == iteration,
        )
    )


async def begin_run(database: Database, run_id: uuid.UUID) -> dict[str, Any] | None:
    """Mark the run running; what the engine needs of it, or None once it is final."""

    async def work(session: AsyncSession) -> dict[str, Any] | None:
        run = await session.get(WorkflowRun, run_id)
        if run is None or run.status.is_final:
            return None
        if run.status == WorkflowRunStatus.PENDING:
            run.status = WorkflowRunStatus.RUNNING
            await add_event(session, run_id, "run.started", {"run_id": str(run_id)})
        return {"owner_id": run.owner_id, "steps": run.definition, "input": run.input}

    return await in_transaction(database, work)


async def start_step(
    database: Database, run_id: uuid.UUID, *, step_id: str, **fields: Any
) -> uuid.UUID:
    """Record a step begun (a repeat of the same pass updates it); the record's id.

    `fields` are `record_step_started`'s: iteration, type, and optionally input,
    execution_id, waiting and event.
    """

    async def work(session: AsyncSession) -> uuid.UUID:
        return await record_step_started(session, run_id, step_id=step_id, **fields)

    return await in_transaction(database, work)


async def record_step_started(
    session: AsyncSession,
    run_id: uuid.UUID,
    *,
    step_id: str,
    iteration: int,
    type: str,
    input: str | None = None,
    execution_id: uuid.UUID | None = None,
    waiting: bool = False,
    event: dict[str, Any] | None = None,
) -> uuid.UUID:
    """`start_step` within the caller's transaction, beside the caller's own writes."""
    record = await _record(session, run_id, step_id, iteration)
    if record is None:
        record = WorkflowStepRecord(run_id=run_id, step_id=step_id, iteration=iteration, type=type)
        session.add(record)
    record.status = StepStatus.WAITING if waiting else StepStatus.RUNNING
    record.input = input
    record.execution_id = execution_id
    record.started_at = utc_now()
    await session.flush()
    status = WorkflowRunStatus.WAITING if waiting else WorkflowRunStatus.RUNNING
    await session.execute(
        update(WorkflowRun)
        .where(WorkflowRun.id == run_id, WorkflowRun.status.in_(ACTIVE))
        .values(status=status, updated_at=utc_now())
    )
    name = "approval.requested" if waiting else "step.started"
    data = {"step": step_id, "iteration": iteration, "type": type}
    if execution_id is not None:
        data["execution_id"] = str(execution_id)
    await add_event(session, run_id, name, data | (event or {}))
    return record.id


async def finish_agent_step(
    database: Database, run_id: uuid.UUID, *, step_id: str, iteration: int, execution_id: uuid.UUID
) -> dict[str, Any]:
    """Copy the execution's outcome onto the step and the run's totals; the outcome.

    For a run whose outcome was not stored with its step (see `record_agent_outcome`).
    """

    async def work(session: AsyncSession) -> dict[str, Any]:
        execution = await session.get(Execution, execution_id)
        assert execution is not None
        await _add_totals(session, run_id, execution)
        return await _copy_outcome(session, run_id, step_id, iteration, execution)

    return await in_transaction(database, work)


async def record_agent_outcome(
    session: AsyncSession, prepared: PreparedRun, execution: Execution
) -> None:
    """Copy a step's agent run outcome onto the step, in the transaction that stores it.

    The run's totals are updated first: that locks the run's row, so parallel steps
    finishing at once number their events in turn.
    """
    step = prepared.workflow_step
    if step is None:
        return
    await _add_totals(session, step.run_id, execution)
    await _copy_outcome(session, step.run_id, step.step_id, step.iteration, execution)


async def _copy_outcome(
    session: AsyncSession, run_id: uuid.UUID, step_id: str, iteration: int, execution: Execution
) -> dict[str, Any]:
    """Set the step's record from the execution and announce it; the outcome."""
    record = await _record(session, run_id, step_id, iteration)
    assert record is not None
    ok = execution.status == ExecutionStatus.COMPLETED
    record.status = StepStatus.COMPLETED if ok else StepStatus.FAILED
    record.output = execution.output
    record.error_message = None if ok else execution.error_message
    record.input_tokens = execution.input_tokens
    record.output_tokens = execution.output_tokens
    record.cost = execution.cost
    record.finished_at = utc_now()
    outcome = {
        "step": step_id,
        "iteration": iteration,
        "execution_id": str(execution.id),
        "status": record.status.value,
        "output": execution.output or "",
        "error_type": execution.error_type,
        "error_message": execution.error_message,
    }
    await add_event(session, run_id, "step.completed" if ok else "step.failed", outcome)
    return outcome


async def _add_totals(session: AsyncSession, run_id: uuid.UUID, execution: Execution) -> None:
    await session.execute(
        update(WorkflowRun)
        .where(WorkflowRun.id == run_id)
        .values(
            input_tokens=WorkflowRun.input_tokens + execution.input_tokens,
            output_tokens=WorkflowRun.output_tokens + execution.output_tokens,
            cost=WorkflowRun.cost + (execution.cost or Decimal("0")),
            updated_at=utc_now(),
        )
    )


async def complete_step(
    database: Database,
    run_id: uuid.UUID,
    *,
    step_id: str,
    iteration: int,
    output: str | None,
    event: dict[str, Any] | None = None,
) -> None:
    """Mark a step (a branch, a parallel join) completed with its output."""

    async def work(session: AsyncSession) -> None:
        record = await _record(session, run_id, step_id, iteration)
        assert record is not None
        record.status = StepStatus.COMPLETED
        record.output = output
        record.finished_at = utc_now()
        data = {"step": step_id, "iteration": iteration, "status": "completed", "output": output}
        await add_event(session, run_id, "step.completed", data | (event or {}))

    await in_transaction(database, work)


async def finish_run(
    database: Database,
    run_id: uuid.UUID,
    *,
    status: WorkflowRunStatus,
    output: str | None = None,
    error_type: str | None = None,
    error_message: str | None = None,
) -> bool:
    """Record the run's outcome unless it already has one; False when it had."""

    async def work(session: AsyncSession) -> bool:
        result = await session.execute(
            update(WorkflowRun)
            .where(WorkflowRun.id == run_id, WorkflowRun.status.in_(ACTIVE))
            .values(
                status=status,
                output=output,
                error_type=error_type,
                error_message=error_message,
                finished_at=utc_now(),
                updated_at=utc_now(),
            )
        )
        if not getattr(result, "rowcount", 0):
            return False
        await session.execute(
            update(WorkflowStepRecord)
            .where(
                WorkflowStepRecord.run_id == run_id,
                WorkflowStepRecord.status.in_((StepStatus.RUNNING, StepStatus.WAITING)),
            )
            .values(status=StepStatus.CANCELLED, finished_at=utc_now())
        )
        data = {"status": status.value, "output": output}
        if error_type is not None:
            data |= {"error_type": error_type, "error_message": error_message}
        await add_event(session, run_id, f"run.{status.value}", data)
        return True

    return await in_transaction(database, work)


async def active_runs(database: Database, limit: int = 500) -> list[uuid.UUID]:
    """Runs not yet final, for the sweep that resumes those whose process died."""
    async with database.transaction() as session:
        rows = await session.scalars(
            select(WorkflowRun.id).where(WorkflowRun.status.in_(ACTIVE)).limit(limit)
        )
        return list(rows)


async def active_steps(
    session: AsyncSession, run_id: uuid.UUID
) -> list[tuple[uuid.UUID, uuid.UUID | None]]:
    """The run's running or waiting records, with the execution each agent step runs."""
    rows = await session.execute(
        select(WorkflowStepRecord.id, WorkflowStepRecord.execution_id).where(
            WorkflowStepRecord.run_id == run_id,
            WorkflowStepRecord.status.in_((StepStatus.RUNNING, StepStatus.WAITING)),
        )
    )
    return [(record_id, execution_id) for record_id, execution_id in rows.all()]
