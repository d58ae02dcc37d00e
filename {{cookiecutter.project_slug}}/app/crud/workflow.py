"""Workflow and workflow-run queries, always scoped to the organisation (or a named approver)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.crud.base import apply_changes, paginate
from app.models import Agent, Workflow, WorkflowEvent, WorkflowRun, WorkflowStepRecord


async def get(
    session: AsyncSession, *, organization_id: uuid.UUID, workflow_id: uuid.UUID
) -> Workflow | None:
    """The organisation's workflow, or None for a missing id and for another's alike."""
    return await session.scalar(
        select(Workflow).where(
            Workflow.id == workflow_id, Workflow.organization_id == organization_id
        )
    )


async def get_page(
    session: AsyncSession, *, organization_id: uuid.UUID, skip: int, limit: int
) -> tuple[Sequence[Workflow], int]:
    """Newest first."""
    statement = (
        select(Workflow)
        .where(Workflow.organization_id == organization_id)
        .order_by(Workflow.created_at.desc(), Workflow.id.desc())
    )
    return await paginate(session, statement, skip=skip, limit=limit)


def in_organization(organization_id: uuid.UUID) -> ColumnElement[bool]:
    """The condition on agents that a workflow of this organisation may run: its own."""
    return Agent.organization_id == organization_id


async def organization_agent(
    session: AsyncSession, *, organization_id: uuid.UUID, agent_id: uuid.UUID
) -> Agent | None:
    """The agent a step names, if the run's organisation may run it."""
    return await session.scalar(
        select(Agent).where(Agent.id == agent_id, in_organization(organization_id))
    )


async def organization_agent_ids(
    session: AsyncSession, *, organization_id: uuid.UUID, among: Collection[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of `among` are agents the organisation's workflows may run."""
    if not among:
        return set()
    rows = await session.scalars(
        select(Agent.id).where(in_organization(organization_id), Agent.id.in_(list(among)))
    )
    return set(rows)


async def create(
    session: AsyncSession,
    *,
    organization_id: uuid.UUID,
    owner_id: uuid.UUID,
    name: str,
    description: str | None,
    steps: list[dict[str, Any]],
) -> Workflow:
    """A new workflow at version 1."""
    workflow = Workflow(
        organization_id=organization_id,
        owner_id=owner_id,
        name=name,
        description=description,
        version=1,
        steps=steps,
    )
    session.add(workflow)
    await session.flush()
    return workflow


async def update(
    session: AsyncSession, *, workflow: Workflow, changes: Mapping[str, Any]
) -> Workflow:
    """Apply what differs; new steps bump the version (computed by the database)."""
    effective = {k: v for k, v in changes.items() if getattr(workflow, k) != v}
    if not effective:
        return workflow
    if "steps" in effective:
        effective["version"] = Workflow.version + 1
    return await apply_changes(session, workflow, effective)


async def delete(session: AsyncSession, *, workflow: Workflow) -> None:
    """Remove the workflow; its runs, their records and events go with it."""
    await session.delete(workflow)
    await session.flush()


async def get_run(
    session: AsyncSession, *, organization_id: uuid.UUID, run_id: uuid.UUID
) -> WorkflowRun | None:
    """The organisation's run, or None for a missing id and for another's alike."""
    return await session.scalar(
        select(WorkflowRun).where(
            WorkflowRun.id == run_id, WorkflowRun.organization_id == organization_id
        )
    )


async def get_run_any_owner(session: AsyncSession, *, run_id: uuid.UUID) -> WorkflowRun | None:
    """A run whoever owns it: for deciding an approval, whose approvers the caller checks."""
    return await session.get(WorkflowRun, run_id)


async def get_run_page(
    session: AsyncSession,
    *,
    organization_id: uuid.UUID,
    skip: int,
    limit: int,
    workflow_id: uuid.UUID | None = None,
) -> tuple[Sequence[WorkflowRun], int]:
    """Newest first, optionally one workflow's."""
    statement = (
        select(WorkflowRun)
        .where(WorkflowRun.organization_id == organization_id)
        .order_by(WorkflowRun.created_at.desc(), WorkflowRun.id.desc())
    )
    if workflow_id is not None:
        statement = statement.where(WorkflowRun.workflow_id == workflow_id)
    return await paginate(session, statement, skip=skip, limit=limit)


async def step_records(session: AsyncSession, *, run_id: uuid.UUID) -> Sequence[WorkflowStepRecord]:
    """A run's step records in the order they started."""
    rows = await session.scalars(
        select(WorkflowStepRecord)
        .where(WorkflowStepRecord.run_id == run_id)
        .order_by(WorkflowStepRecord.started_at, WorkflowStepRecord.iteration)
    )
    return rows.all()


async def events_after(
    session: AsyncSession, *, run_id: uuid.UUID, after: int, limit: int = 500
) -> Sequence[WorkflowEvent]:
    """A run's events numbered above `after`, in order."""
    rows = await session.scalars(
        select(WorkflowEvent)
        .where(WorkflowEvent.run_id == run_id, WorkflowEvent.sequence > after)
        .order_by(WorkflowEvent.sequence)
        .limit(limit)
    )
    return rows.all()
