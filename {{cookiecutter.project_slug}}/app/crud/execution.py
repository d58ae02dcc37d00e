"""Execution queries, always scoped to one organisation, plus the run manager's bookkeeping."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select
from sqlalchemy import update as update_rows
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.text import clean_text
from app.crud import idempotency as idempotency_crud
from app.crud.base import apply_changes, paginate
from app.db.types import utc_now
from app.models import Execution, ExecutionStatus

UNFINISHED = (ExecutionStatus.PENDING, ExecutionStatus.RUNNING)


async def get(
    session: AsyncSession, *, organization_id: uuid.UUID, execution_id: uuid.UUID
) -> Execution | None:
    """The organisation's execution; None for a missing id and another organisation's alike."""
    return await session.scalar(
        select(Execution).where(
            Execution.id == execution_id, Execution.organization_id == organization_id
        )
    )


async def get_any(session: AsyncSession, *, execution_id: uuid.UUID) -> Execution | None:
    """Any organisation's execution, for the run manager's own bookkeeping; never for a user's request."""
    return await session.get(Execution, execution_id)


async def get_page(
    session: AsyncSession,
    *,
    organization_id: uuid.UUID,
    skip: int,
    limit: int,
    agent_id: uuid.UUID | None = None,
    status: ExecutionStatus | None = None,
) -> tuple[Sequence[Execution], int]:
    """Newest first."""
    statement = (
        select(Execution)
        .where(Execution.organization_id == organization_id)
        .order_by(Execution.created_at.desc(), Execution.id.desc())
    )
    if agent_id is not None:
        statement = statement.where(Execution.agent_id == agent_id)
    if status is not None:
        statement = statement.where(Execution.status == status)
    return await paginate(session, statement, skip=skip, limit=limit)


async def create(
    session: AsyncSession,
    *,
    organization_id: uuid.UUID,
    owner_id: uuid.UUID,
    agent_id: uuid.UUID,
    conversation_id: uuid.UUID,
    input: str,
    agent_version: int | None = None,
) -> Execution:
    """A pending execution; the caller has checked the organisation's agent and conversation.

    An Idempotency-Key the request holds on the session is stored in the same flush, so a
    second request with that key fails here, before its run is committed or started.
    """
    execution = Execution(
        id=uuid.uuid4(),
        organization_id=organization_id,
        owner_id=owner_id,
        agent_id=agent_id,
        conversation_id=conversation_id,
        agent_version=agent_version,
        input=input,
        status=ExecutionStatus.PENDING,
    )
    session.add(execution)
    idempotency_crud.attach(session, execution)
    await session.flush()
    return execution


async def update(
    session: AsyncSession, *, execution: Execution, changes: Mapping[str, Any]
) -> Execution:
    """Record progress: status, output, error, tokens, cost and timestamps.

    Output and errors come from a model or a provider, so text no database stores is cleaned.
    """
    return await apply_changes(session, execution, _cleaned(changes))


async def change(
    session: AsyncSession,
    *,
    execution_id: uuid.UUID,
    changes: Mapping[str, Any],
    organization_id: uuid.UUID | None = None,
    unfinished_only: bool = False,
) -> Execution | None:
    """Apply `changes` in one UPDATE ... RETURNING: the row as it now stands, or None.

    None when no row matched: a missing id, another organisation's (when `organization_id`
    is given), or, with `unfinished_only`, a run that has already ended, left as it is.
    """
    statement = update_rows(Execution).where(Execution.id == execution_id)
    if organization_id is not None:
        statement = statement.where(Execution.organization_id == organization_id)
    if unfinished_only:
        statement = statement.where(Execution.status.in_(UNFINISHED))
    returning = statement.values(**_cleaned(changes)).returning(Execution)
    return await session.scalar(returning.execution_options(populate_existing=True))


_TABLE = cast(Table, Execution.__table__)
_EXECUTIONS = _TABLE.c
# Built once: a run's start is on every run's path, and needs no row back.
_MARK_RUNNING = (
    update_rows(_TABLE)
    .where(
        _EXECUTIONS.id == bindparam("execution_id", type_=_EXECUTIONS.id.type),
        _EXECUTIONS.status.in_(UNFINISHED),
    )
    .values(
        status=ExecutionStatus.RUNNING,
        started_at=func.coalesce(
            _EXECUTIONS.started_at, bindparam("now", type_=_EXECUTIONS.started_at.type)
        ),
    )
)


async def mark_running(session: AsyncSession, *, execution_id: uuid.UUID) -> None:
    """Mark an unfinished run running, keeping the start time of one that had begun."""
    await session.execute(_MARK_RUNNING, {"execution_id": execution_id, "now": utc_now()})


def _cleaned(changes: Mapping[str, Any]) -> dict[str, Any]:
    """The changes with text no database stores cleaned out of them."""
    return {
        key: clean_text(value) if isinstance(value, str) else value
        for key, value in changes.items()
    }


async def finish_unfinished(
    session: AsyncSession, *, execution_ids: Sequence[uuid.UUID], changes: Mapping[str, Any]
) -> int:
    """Apply `changes` to those of the executions still pending or running; how many were.

    One conditional UPDATE: a run that ended, or a row deleted, since it was read is left
    as it is, instead of being overwritten or failing the whole sweep.
    """
    if not execution_ids:
        return 0
    statement = (
        update_rows(Execution)
        .where(Execution.id.in_(execution_ids), Execution.status.in_(UNFINISHED))
        .values(**changes)
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)


async def list_unfinished(session: AsyncSession) -> Sequence[Execution]:
    """Every pending or running execution, of every owner: candidates for the orphan sweep."""
    statement = (
        select(Execution).where(Execution.status.in_(UNFINISHED)).order_by(Execution.created_at)
    )
    return (await session.scalars(statement)).all()


async def count_unfinished(session: AsyncSession, *, owner_id: uuid.UUID) -> int:
    """How many runs the user started are pending or running, for the per-user concurrency cap."""
    statement = (
        select(func.count())
        .select_from(Execution)
        .where(Execution.owner_id == owner_id, Execution.status.in_(UNFINISHED))
    )
    return int(await session.scalar(statement) or 0)
