"""The registered tools, and running one directly as the signed-in user in their organisation."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from app.ai.providers.base import ToolCall
from app.ai.tools.base import Tool, ToolContext
from app.ai.tools.manager import ToolManager
from app.api.access import Access, require
from app.api.audit import AuditDep
from app.api.deps import (
    CurrentUser,
    DatabaseDep,
    PaginationDep,
    ToolManagerDep,
    ToolRegistryDep,
)
from app.api.error_responses import THROTTLED
from app.api.user_limits import ToolCallLimit
from app.core.audit_chain import arguments_hash
from app.schemas.common import ErrorBody, Page
from app.schemas.tool import ToolExecuteRequest, ToolExecuteResult, ToolRead

router = APIRouter(prefix="/tools", tags=["tools"])

ToolNamePath = Annotated[str, Path(max_length=100, description="A registered tool's name")]


NOT_FOUND: dict[int | str, dict[str, Any]] = {
    status.HTTP_404_NOT_FOUND: {"model": ErrorBody, "description": "No tool by that name"}
}


def _read(tool: Tool[Any], manager: ToolManager) -> ToolRead:
    definition = tool.definition()
    return ToolRead(
        name=definition.name,
        description=definition.description,
        parameters=definition.parameters,
        timeout_seconds=manager.timeout_for(tool),
    )


def _argument_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """Pydantic's errors located under the request body, as FastAPI reports its own."""
    return [
        {"type": error["type"], "loc": ("body", "arguments", *error["loc"]), "msg": error["msg"]}
        for error in exc.errors(include_url=False)
    ]


@router.get("", response_model=Page[ToolRead])
async def list_tools(
    _user: CurrentUser, registry: ToolRegistryDep, manager: ToolManagerDep, page: PaginationDep
) -> Page[ToolRead]:
    """Every registered tool with the JSON schema of its arguments."""
    tools = list(registry)[page.skip : page.skip + page.limit]
    return Page[ToolRead].of([_read(tool, manager) for tool in tools], len(registry), page)


@router.get("/{name}", response_model=ToolRead, responses=NOT_FOUND)
async def read_tool(
    name: ToolNamePath, _user: CurrentUser, registry: ToolRegistryDep, manager: ToolManagerDep
) -> ToolRead:
    """One tool with the JSON schema of its arguments."""
    return _read(registry.get(name), manager)


@router.post(
    "/{name}/execute", response_model=ToolExecuteResult, responses={**NOT_FOUND, **THROTTLED}
)
async def execute_tool(
    access: Annotated[Access, require("tools:run")],
    _limit: ToolCallLimit,
    name: ToolNamePath,
    payload: ToolExecuteRequest,
    registry: ToolRegistryDep,
    manager: ToolManagerDep,
    database: DatabaseDep,
    audit: AuditDep,
) -> ToolExecuteResult:
    """Run one tool as the caller in the active organisation, under an agent's call's limits."""
    tool = registry.get(name)
    try:
        tool.parse(payload.arguments)
    except ValidationError as exc:
        raise RequestValidationError(_argument_errors(exc)) from None
    call = ToolCall(id=f"direct-{uuid.uuid4().hex}", name=name, arguments=payload.arguments)
    context = ToolContext(
        user_id=access.user_id, database=database, organization_id=access.organization_id
    )
    result = await manager.run_call(call, allowed={name}, context=context)
    await audit.record_alone(
        "tool.executed",
        organization_id=access.organization_id,
        actor_id=access.user_id,
        target_type="tool",
        target_id=name,
        details={
            "tool": name,
            "call_id": call.id,
            "arguments_sha256": arguments_hash(payload.arguments),
            "is_error": result.is_error,
        },
    )
    return ToolExecuteResult(
        name=result.name,
        content=result.content,
        is_error=result.is_error,
        duration_ms=result.duration_ms,
    )
