"""MCP connection queries, always scoped to the organisation; headers are sealed before storing."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.sealing import Sealer
from app.crud.base import apply_changes, paginate
from app.models import McpConnection
from app.schemas.mcp_connection import McpConnectionCreate


async def get(
    session: AsyncSession, *, organization_id: uuid.UUID, connection_id: uuid.UUID
) -> McpConnection | None:
    """The organisation's connection, or None for a missing id and for another's alike."""
    return await session.scalar(
        select(McpConnection).where(
            McpConnection.id == connection_id, McpConnection.organization_id == organization_id
        )
    )


async def get_by_name(
    session: AsyncSession, *, organization_id: uuid.UUID, name: str
) -> McpConnection | None:
    """The organisation's connection called `name`, as an agent's tool name refers to it."""
    return await session.scalar(
        select(McpConnection).where(
            McpConnection.organization_id == organization_id, McpConnection.name == name
        )
    )


async def get_page(
    session: AsyncSession, *, organization_id: uuid.UUID, skip: int, limit: int
) -> tuple[Sequence[McpConnection], int]:
    """The organisation's connections by name."""
    statement = (
        select(McpConnection)
        .where(McpConnection.organization_id == organization_id)
        .order_by(McpConnection.name)
    )
    return await paginate(session, statement, skip=skip, limit=limit)


def _sealed(sealer: Sealer, headers: Mapping[str, str]) -> dict[str, Any]:
    """The columns that store `headers`: sealed values, and their names in clear."""
    return {
        "headers_encrypted": sealer.seal(dict(headers)) if headers else None,
        "header_names": sorted(headers),
    }


async def create(
    session: AsyncSession,
    *,
    organization_id: uuid.UUID,
    owner_id: uuid.UUID,
    data: McpConnectionCreate,
    sealer: Sealer,
    default_timeout: float,
) -> McpConnection:
    """A new connection with its headers sealed."""
    fields = data.model_dump(exclude={"headers", "timeout_seconds"})
    connection = McpConnection(
        organization_id=organization_id,
        owner_id=owner_id,
        **fields | {"command": data.command or []},
        **_sealed(sealer, data.headers),
        timeout_seconds=data.timeout_seconds or default_timeout,
    )
    session.add(connection)
    await session.flush()
    return connection


async def update(
    session: AsyncSession, *, connection: McpConnection, changes: Mapping[str, Any], sealer: Sealer
) -> McpConnection:
    """Apply the changes; new headers replace the stored ones, sealed."""
    values = dict(changes)
    if "headers" in values:
        values |= _sealed(sealer, values.pop("headers"))
    if values.get("command", []) is None:
        values["command"] = []
    return await apply_changes(session, connection, values)


def headers_of(connection: McpConnection, sealer: Sealer) -> dict[str, str]:
    """The connection's headers in clear, only to send them to its server."""
    if connection.headers_encrypted is None:
        return {}
    return sealer.open(connection.headers_encrypted)


async def delete(session: AsyncSession, *, connection: McpConnection) -> None:
    """Remove the connection; agents that name its tools get a clear failure on use."""
    await session.delete(connection)
    await session.flush()
