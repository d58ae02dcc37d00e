"""The active organisation's MCP server connections, their tools, and a connection test."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, status
from sqlalchemy.ext.asyncio import AsyncSession

from app.ai.mcp import names
from app.ai.mcp.connections import list_remote_tools, spec_of, test_connection
from app.ai.mcp.pool import McpPool, McpServerSpec, McpUnavailableError
from app.api.access import Access, get_access, require
from app.api.audit import AuditDep
from app.api.deps import PaginationDep, SessionDep, SettingsDep
from app.core.config import Settings
from app.core.errors import (
    ConflictError,
    NotFoundError,
    ServiceUnavailableError,
    UnprocessableError,
)
from app.core.sealing import Sealer, SealError
from app.crud import mcp_connection as connection_crud
from app.models import McpConnection, McpTransport
from app.schemas.common import Page
from app.schemas.mcp_connection import (
    McpConnectionCreate,
    McpConnectionRead,
    McpConnectionUpdate,
    McpTestResult,
    McpToolRead,
    check_target,
)

router = APIRouter(prefix="/mcp-connections", tags=["mcp-connections"])

CanRead = Annotated[Access, require("mcp:read")]
CanWrite = Annotated[Access, require("mcp:write")]


async def get_pool(request: Request) -> McpPool:
    """The process's pooled MCP sessions."""
    pool: McpPool = request.app.state.mcp_pool
    return pool


async def get_sealer(request: Request) -> Sealer:
    """Seals and opens connection headers with the configured key."""
    sealer: Sealer = request.app.state.sealer
    return sealer


async def get_connection(
    connection_id: Annotated[uuid.UUID, Path(description="The connection's id")],
    access: Annotated[Access, Depends(get_access)],
    session: SessionDep,
) -> McpConnection:
    """The path's connection, if it is the active organisation's."""
    found = await connection_crud.get(
        session, organization_id=access.organization_id, connection_id=connection_id
    )
    if found is None:
        raise NotFoundError("MCP connection not found")
    return found


PoolDep = Annotated[McpPool, Depends(get_pool)]
SealerDep = Annotated[Sealer, Depends(get_sealer)]
ConnectionDep = Annotated[McpConnection, Depends(get_connection)]


def _check_transport(settings: Settings, transport: McpTransport) -> None:
    """A stdio server is a process on this host, so it needs the admin's setting."""
    if transport is McpTransport.STDIO and not settings.mcp_allow_stdio:
        raise UnprocessableError(
            "stdio connections are disabled on this service (an admin enables them with "
            "MCP_ALLOW_STDIO=true)"
        )


async def _check_name_is_free(
    session: AsyncSession, *, organization_id: uuid.UUID, name: str
) -> None:
    """A clear 409 for a taken name; the unique constraint still catches a race."""
    taken = await connection_crud.get_by_name(session, organization_id=organization_id, name=name)
    if taken is not None:
        raise ConflictError(f"This organization already has an MCP connection named '{name}'")


def _spec(connection: McpConnection, sealer: Sealer, settings: Settings) -> McpServerSpec:
    """How to reach the server, refusing what the settings no longer allow."""
    _check_transport(settings, connection.transport)
    try:
        return spec_of(connection, sealer)
    except SealError as exc:
        raise UnprocessableError(f"{exc}; send the headers again") from None


@router.post("", response_model=McpConnectionRead, status_code=status.HTTP_201_CREATED)
async def create_connection(
    access: CanWrite,
    payload: McpConnectionCreate,
    session: SessionDep,
    settings: SettingsDep,
    sealer: SealerDep,
    audit: AuditDep,
) -> McpConnection:
    """Store a connection; its headers are encrypted and never shown again."""
    _check_transport(settings, payload.transport)
    await _check_name_is_free(session, organization_id=access.organization_id, name=payload.name)
    connection = await connection_crud.create(
        session,
        organization_id=access.organization_id,
        owner_id=access.user_id,
        data=payload,
        sealer=sealer,
        default_timeout=settings.mcp_timeout_seconds,
    )
    await audit.record(
        session,
        "mcp_connection.created",
        organization_id=access.organization_id,
        actor_id=access.user_id,
        target_type="mcp_connection",
        target_id=connection.id,
        details={"name": connection.name},
    )
    return connection


@router.get("", response_model=Page[McpConnectionRead])
async def list_connections(
    access: CanRead, session: SessionDep, page: PaginationDep
) -> Page[McpConnectionRead]:
    """The organisation's connections by name."""
    rows, total = await connection_crud.get_page(
        session, organization_id=access.organization_id, skip=page.skip, limit=page.limit
    )
    return Page[McpConnectionRead].of(rows, total, page)


@router.get("/{connection_id}", response_model=McpConnectionRead)
async def read_connection(_: CanRead, connection: ConnectionDep) -> McpConnection:
    """One of the organisation's connections."""
    return connection


@router.patch("/{connection_id}", response_model=McpConnectionRead)
async def update_connection(
    access: CanWrite,
    payload: McpConnectionUpdate,
    connection: ConnectionDep,
    session: SessionDep,
    sealer: SealerDep,
    pool: PoolDep,
    audit: AuditDep,
) -> McpConnection:
    """Change the fields sent; the next call reconnects with the new settings."""
    changes = payload.changes()
    url = changes.get("url", connection.url)
    command = changes.get("command", connection.command) or None
    try:
        check_target(connection.transport, url=url, command=command)
    except ValueError as exc:
        raise UnprocessableError(str(exc)) from None
    if "name" in changes and changes["name"] != connection.name:
        await _check_name_is_free(
            session, organization_id=connection.organization_id, name=changes["name"]
        )
    updated = await connection_crud.update(
        session, connection=connection, changes=changes, sealer=sealer
    )
    await audit.record(
        session,
        "mcp_connection.updated",
        organization_id=access.organization_id,
        actor_id=access.user_id,
        target_type="mcp_connection",
        target_id=connection.id,
        details={"fields": sorted(changes)},
    )
    await pool.close(connection.id)
    return updated


@router.delete("/{connection_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_connection(
    access: CanWrite,
    connection: ConnectionDep,
    session: SessionDep,
    pool: PoolDep,
    audit: AuditDep,
) -> None:
    """Delete the connection and close its session; agents naming its tools get a clear error."""
    await pool.close(connection.id)
    await connection_crud.delete(session, connection=connection)
    await audit.record(
        session,
        "mcp_connection.deleted",
        organization_id=access.organization_id,
        actor_id=access.user_id,
        target_type="mcp_connection",
        target_id=connection.id,
        details={"name": connection.name},
    )


@router.get("/{connection_id}/tools", response_model=list[McpToolRead])
async def list_connection_tools(
    _: CanRead, connection: ConnectionDep, settings: SettingsDep, sealer: SealerDep, pool: PoolDep
) -> list[McpToolRead]:
    """The tools the server lists now, with the names agents enable them under."""
    try:
        tools = await list_remote_tools(pool, _spec(connection, sealer, settings))
    except McpUnavailableError as exc:
        raise ServiceUnavailableError(str(exc)) from None
    return [
        McpToolRead(
            name=tool.name,
            agent_tool_name=names.agent_tool_name(connection.name, tool.name),
            description=tool.description or "",
            input_schema=dict(tool.input_schema),
            allowed=not connection.allowed_tools or tool.name in connection.allowed_tools,
            requires_approval=tool.name in connection.approval_required,
        )
        for tool in tools
    ]


@router.post("/{connection_id}/test", response_model=McpTestResult)
async def test_connection_route(
    _access: CanWrite,  # noqa: PT019 (a route, not a test)
    connection: ConnectionDep,
    settings: SettingsDep,
    sealer: SealerDep,
    pool: PoolDep,
) -> McpTestResult:
    """Connect and list the tools; the answer says whether it worked and why not."""
    return await test_connection(pool, _spec(connection, sealer, settings))
