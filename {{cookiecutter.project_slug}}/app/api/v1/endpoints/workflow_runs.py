"""Workflow runs: read them, decide their approvals, cancel them, follow their events."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, status
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession
from sse_starlette import EventSourceResponse, ServerSentEvent

from app.ai.workflows import decisions
from app.ai.workflows.streaming import StreamEvent, WorkflowEventStream
from app.api.access import Access, get_access, require
from app.api.deps import (
    DatabaseDep,
    PaginationDep,
    SessionDep,
    SettingsDep,
    StoreDep,
)
from app.api.v1.endpoints.workflows import WorkflowEngineDep
from app.core.errors import ConflictError, NotFoundError
from app.crud import workflow as workflow_crud
from app.models import WorkflowRun
from app.schemas.common import Page
from app.schemas.workflow import (
    ApprovalDecision,
    ApprovalStep,
    Step,
    StepId,
    StepRecordRead,
    WorkflowRunRead,
)

router = APIRouter(prefix="/workflow-runs", tags=["workflows"])

CanRead = Annotated[Access, require("workflows:read")]
CanRun = Annotated[Access, require("workflows:run")]

STEPS = TypeAdapter(list[Step])


def approvers_of(run: WorkflowRun) -> dict[str, set[str]]:
    """Each approval step's approvers, by step id, as lowercase emails."""
    return {
        step.id: {email.lower() for email in step.approvers}
        for step in STEPS.validate_python(run.definition)
        if isinstance(step, ApprovalStep)
    }


def _named_approver(run: WorkflowRun, access: Access) -> bool:
    return any(access.user.email.lower() in names for names in approvers_of(run).values())


async def visible_run(session: AsyncSession, *, access: Access, run_id: uuid.UUID) -> WorkflowRun:
    """The run, in the active organisation or for a user named as an approver; else a 404."""
    run = await workflow_crud.get_run_any_owner(session, run_id=run_id)
    if run is not None and run.organization_id == access.organization_id:
        return run
    if run is not None and _named_approver(run, access):
        return run
    raise NotFoundError("Workflow run not found")


async def get_visible_run(
    workflow_run_id: Annotated[uuid.UUID, Path(description="The workflow run's id")],
    access: Annotated[Access, Depends(get_access)],
    session: SessionDep,
) -> WorkflowRun:
    """The path's run, if it is the organisation's or the caller is named to approve in it."""
    return await visible_run(session, access=access, run_id=workflow_run_id)


async def get_organization_run(
    workflow_run_id: Annotated[uuid.UUID, Path(description="The workflow run's id")],
    access: Annotated[Access, Depends(get_access)],
    session: SessionDep,
) -> WorkflowRun:
    """The path's run, if it is the active organisation's."""
    run = await workflow_crud.get_run(
        session, organization_id=access.organization_id, run_id=workflow_run_id
    )
    if run is None:
        raise NotFoundError("Workflow run not found")
    return run


VisibleRunDep = Annotated[WorkflowRun, Depends(get_visible_run)]
OrganizationRunDep = Annotated[WorkflowRun, Depends(get_organization_run)]


async def run_read(session: AsyncSession, run: WorkflowRun) -> WorkflowRunRead:
    """The run with every step record it has."""
    shown = WorkflowRunRead.model_validate(run)
    found = await workflow_crud.step_records(session, run_id=run.id)
    return shown.model_copy(update={"steps": [StepRecordRead.model_validate(r) for r in found]})


@router.get("", response_model=Page[WorkflowRunRead])
async def list_workflow_runs(
    access: CanRead,
    session: SessionDep,
    page: PaginationDep,
    workflow_id: uuid.UUID | None = None,
) -> Page[WorkflowRunRead]:
    """The organisation's workflow runs, newest first (without steps); optionally one workflow's."""
    runs, total = await workflow_crud.get_run_page(
        session,
        organization_id=access.organization_id,
        skip=page.skip,
        limit=page.limit,
        workflow_id=workflow_id,
    )
    return Page[WorkflowRunRead].of(
        [WorkflowRunRead.model_validate(run) for run in runs], total, page
    )


@router.get("/{workflow_run_id}", response_model=WorkflowRunRead)
async def read_workflow_run(_: CanRead, run: VisibleRunDep, session: SessionDep) -> WorkflowRunRead:
    """A run with each step's status, input, output, execution, tokens and cost."""
    return await run_read(session, run)


@router.post("/{workflow_run_id}/approvals/{step}", response_model=WorkflowRunRead)
async def decide_approval(
    access: CanRun,
    payload: ApprovalDecision,
    run: VisibleRunDep,
    step: Annotated[StepId, Path(description="The approval step's id")],
    session: SessionDep,
    engine: WorkflowEngineDep,
) -> WorkflowRunRead:
    """Approve or reject the step waiting here: any member who may run workflows, or a named approver."""
    approvers = approvers_of(run)
    if step not in approvers:
        raise NotFoundError(f"This run has no approval step '{step}'")
    in_organization = run.organization_id == access.organization_id
    if not in_organization and access.user.email.lower() not in approvers[step]:
        raise NotFoundError(f"This run has no approval step '{step}' for you to decide")
    if run.status.is_final:
        raise ConflictError(f"Workflow run already {run.status.value}")
    record_id = await decisions.claim_waiting(
        session,
        run.id,
        step,
        approved=payload.approve,
        comment=payload.comment,
        edited=payload.edited_output,
        decided_by=access.user_id,
    )
    if record_id is None:
        raise ConflictError(f"Step '{step}' is not waiting for a decision")
    await session.commit()
    try:
        await engine.notify_decided(run.id, record_id)
    except BaseException:
        await decisions.unclaim_decision(engine.database, record_id)
        raise
    await session.refresh(run)
    return await run_read(session, run)


@router.post(
    "/{workflow_run_id}/cancel",
    response_model=WorkflowRunRead,
    status_code=status.HTTP_202_ACCEPTED,
)
async def cancel_workflow_run(
    _: CanRun, run: OrganizationRunDep, session: SessionDep, engine: WorkflowEngineDep
) -> WorkflowRunRead:
    """Stop the run wherever it is: its agent run is cancelled, its approval withdrawn."""
    if run.status.is_final:
        raise ConflictError(f"Workflow run already {run.status.value}")
    await session.commit()
    await engine.cancel(run.id, owner_id=run.owner_id)
    await session.refresh(run)
    return await run_read(session, run)


@router.get(
    "/{workflow_run_id}/events",
    responses={200: {"description": "Server-Sent Events", "content": {"text/event-stream": {}}}},
)
async def follow_workflow_run(
    _: CanRead,
    run: VisibleRunDep,
    database: DatabaseDep,
    store: StoreDep,
    settings: SettingsDep,
    session: SessionDep,
    last_event_id: Annotated[
        int | None, Header(alias="Last-Event-ID", ge=0, description="Resume after this event")
    ] = None,
) -> EventSourceResponse:
    """Every event after `Last-Event-ID` (all of them without it), then live, then the outcome."""
    await session.commit()
    return EventSourceResponse(
        _sse(WorkflowEventStream(database, store, run.id).events(last_event_id or 0)),
        ping=settings.sse_ping_seconds,
    )


async def _sse(events: AsyncIterator[StreamEvent]) -> AsyncIterator[ServerSentEvent]:
    """Each event as SSE; deltas go without an id, so `Last-Event-ID` stays a stored event's."""
    async for event in events:
        event_id = None if event.id is None else str(event.id)
        yield ServerSentEvent(data=event.encoded(), event=event.name, id=event_id)
