"""The active organisation's executions: read-only records of agent runs."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from app.api.access import Access, require
from app.api.deps import PaginationDep, SessionDep
from app.api.v1.resources import ExecutionDep
from app.crud import execution as execution_crud
from app.models import Execution, ExecutionStatus
from app.schemas.common import Page
from app.schemas.execution import ExecutionRead

router = APIRouter(prefix="/executions", tags=["executions"])


@router.get("", response_model=Page[ExecutionRead])
async def list_executions(
    access: Annotated[Access, require("executions:read")],
    session: SessionDep,
    page: PaginationDep,
    agent_id: Annotated[uuid.UUID | None, Query(description="Of this agent only")] = None,
    status: Annotated[ExecutionStatus | None, Query(description="In this state only")] = None,
) -> Page[ExecutionRead]:
    """The organisation's executions, newest first."""
    executions, total = await execution_crud.get_page(
        session,
        organization_id=access.organization_id,
        skip=page.skip,
        limit=page.limit,
        agent_id=agent_id,
        status=status,
    )
    return Page[ExecutionRead].of(executions, total, page)


@router.get("/{execution_id}", response_model=ExecutionRead)
async def read_execution(
    _access: Annotated[Access, require("executions:read")], execution: ExecutionDep
) -> Execution:
    """One of the organisation's executions: status, usage, cost, duration and any error."""
    return execution
