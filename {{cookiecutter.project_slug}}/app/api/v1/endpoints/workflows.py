"""The active organisation's workflows: graphs of agent, approval, branch and parallel steps."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response, status
from fastapi.exceptions import RequestValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.ai.workflows import InvalidWorkflowError, WorkflowEngine, validate
from app.api.access import Access, get_access, require
from app.api.audit import AuditDep
from app.api.deps import PaginationDep, SessionDep
from app.core.errors import NotFoundError
from app.crud import workflow as workflow_crud
from app.models import Workflow, WorkflowRun
from app.schemas.common import Page
from app.schemas.workflow import (
    AgentStep,
    Step,
    WorkflowCreate,
    WorkflowRead,
    WorkflowRunCreate,
    WorkflowRunRead,
    WorkflowUpdate,
)

router = APIRouter(prefix="/workflows", tags=["workflows"])

CanRead = Annotated[Access, require("workflows:read")]
CanWrite = Annotated[Access, require("workflows:write")]
CanRun = Annotated[Access, require("workflows:run")]


async def get_workflow_engine(request: Request) -> WorkflowEngine:
    """The application's workflow engine."""
    engine: WorkflowEngine = request.app.state.workflows
    return engine


WorkflowEngineDep = Annotated[WorkflowEngine, Depends(get_workflow_engine)]


async def get_workflow(
    workflow_id: Annotated[uuid.UUID, Path(description="The workflow's id")],
    access: Annotated[Access, Depends(get_access)],
    session: SessionDep,
) -> Workflow:
    """The path's workflow, if it is the active organisation's."""
    workflow = await workflow_crud.get(
        session, organization_id=access.organization_id, workflow_id=workflow_id
    )
    if workflow is None:
        raise NotFoundError("Workflow not found")
    return workflow


WorkflowDep = Annotated[Workflow, Depends(get_workflow)]


async def check_steps(
    session: AsyncSession, *, organization_id: uuid.UUID, steps: Sequence[Step]
) -> None:
    """A 422 naming the step and the rule it breaks, in the shape of any other 422."""
    wanted = {step.agent_id for step in steps if isinstance(step, AgentStep)}
    owned = await workflow_crud.organization_agent_ids(
        session, organization_id=organization_id, among=wanted
    )
    try:
        validate(steps, owned_agents=owned)
    except InvalidWorkflowError as exc:
        index = next(i for i, step in enumerate(steps) if step.id == exc.step)
        raise RequestValidationError(
            [
                {
                    "type": f"workflow_{exc.rule}",
                    "loc": ("body", "steps", index),
                    "msg": str(exc),
                    "ctx": {"step": exc.step, "rule": exc.rule},
                }
            ]
        ) from exc


def _as_json(steps: Sequence[Step]) -> list[dict[str, Any]]:
    return [step.model_dump(mode="json") for step in steps]


@router.get("", response_model=Page[WorkflowRead])
async def list_workflows(
    access: CanRead, session: SessionDep, page: PaginationDep
) -> Page[WorkflowRead]:
    """The organisation's workflows, newest first."""
    workflows, total = await workflow_crud.get_page(
        session, organization_id=access.organization_id, skip=page.skip, limit=page.limit
    )
    return Page[WorkflowRead].of(workflows, total, page)


@router.post("", response_model=WorkflowRead, status_code=status.HTTP_201_CREATED)
async def create_workflow(
    access: CanWrite, payload: WorkflowCreate, session: SessionDep, audit: AuditDep
) -> Workflow:
    """Create a workflow at version 1; its steps run from the first one listed."""
    await check_steps(session, organization_id=access.organization_id, steps=payload.steps)
    workflow = await workflow_crud.create(
        session,
        organization_id=access.organization_id,
        owner_id=access.user_id,
        name=payload.name,
        description=payload.description,
        steps=_as_json(payload.steps),
    )
    await audit.record(
        session,
        "workflow.created",
        organization_id=access.organization_id,
        actor_id=access.user_id,
        target_type="workflow",
        target_id=workflow.id,
        details={"name": workflow.name},
    )
    return workflow


@router.get("/{workflow_id}", response_model=WorkflowRead)
async def read_workflow(_: CanRead, workflow: WorkflowDep) -> Workflow:
    """One of the organisation's workflows."""
    return workflow


@router.patch("/{workflow_id}", response_model=WorkflowRead)
async def update_workflow(
    access: CanWrite,
    payload: WorkflowUpdate,
    workflow: WorkflowDep,
    session: SessionDep,
    audit: AuditDep,
) -> Workflow:
    """Change the fields sent; new steps are validated whole and bump the version."""
    changes = payload.changes()
    if payload.steps is not None:
        await check_steps(session, organization_id=workflow.organization_id, steps=payload.steps)
        changes["steps"] = _as_json(payload.steps)
    workflow = await workflow_crud.update(session, workflow=workflow, changes=changes)
    await audit.record(
        session,
        "workflow.updated",
        organization_id=access.organization_id,
        actor_id=access.user_id,
        target_type="workflow",
        target_id=workflow.id,
        details={"fields": sorted(changes), "version": workflow.version},
    )
    return workflow


@router.delete("/{workflow_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_workflow(
    access: CanWrite, workflow: WorkflowDep, session: SessionDep, audit: AuditDep
) -> None:
    """Delete the workflow with its runs."""
    await workflow_crud.delete(session, workflow=workflow)
    await audit.record(
        session,
        "workflow.deleted",
        organization_id=access.organization_id,
        actor_id=access.user_id,
        target_type="workflow",
        target_id=workflow.id,
        details={"name": workflow.name},
    )


@router.post("/{workflow_id}/runs", response_model=WorkflowRunRead, status_code=202)
async def start_workflow_run(
    access: CanRun,
    payload: WorkflowRunCreate,
    workflow: WorkflowDep,
    session: SessionDep,
    engine: WorkflowEngineDep,
    request: Request,
    response: Response,
) -> WorkflowRunRead:
    """Start a durable run of the workflow as it is now; follow it at its `events`."""
    run = WorkflowRun(
        organization_id=workflow.organization_id,
        owner_id=access.user_id,
        workflow_id=workflow.id,
        workflow_version=workflow.version,
        definition=workflow.steps,
        input=payload.input,
    )
    session.add(run)
    await session.flush()
    await session.refresh(run)
    shown = WorkflowRunRead.model_validate(run)
    await session.commit()
    await engine.launch(run.id)
    response.headers["Location"] = str(
        request.url_for("read_workflow_run", workflow_run_id=str(run.id))
    )
    return shown
