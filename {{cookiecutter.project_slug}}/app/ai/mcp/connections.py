"""From a stored connection to what the pool needs, and the connection checks the API offers."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from app.ai.mcp.pool import McpPool, McpServerSpec, McpUnavailableError, describe
from app.core.sealing import Sealer
from app.crud import mcp_connection as connection_crud
from app.models import McpConnection
from app.schemas.mcp_connection import McpTestResult

if TYPE_CHECKING:
    from mcp.types import Tool


def spec_of(connection: McpConnection, sealer: Sealer) -> McpServerSpec:
    """How to reach the connection's server; a change to the row is a new revision."""
    headers = connection_crud.headers_of(connection, sealer)
    return McpServerSpec(
        connection_id=connection.id,
        name=connection.name,
        revision=connection.updated_at.isoformat(),
        timeout_seconds=connection.timeout_seconds,
        url=connection.url,
        command=tuple(connection.command),
        headers=tuple(sorted(headers.items())),
    )


async def list_remote_tools(pool: McpPool, spec: McpServerSpec) -> list[Tool]:
    """The server's tools, listed afresh; `McpUnavailableError` with the reason otherwise."""
    from mcp.shared.exceptions import MCPError

    try:
        return await pool.list_tools(spec, refresh=True)
    except McpUnavailableError:
        raise
    except MCPError as exc:
        raise McpUnavailableError(
            f"MCP server '{spec.name}' refused to list its tools: {exc}"
        ) from None
    except Exception as exc:
        raise McpUnavailableError(f"MCP server '{spec.name}' failed: {describe(exc)}") from exc


async def test_connection(pool: McpPool, spec: McpServerSpec) -> McpTestResult:
    """Connect and list the tools, reporting how it went rather than raising."""
    started = time.perf_counter()
    try:
        tools = await list_remote_tools(pool, spec)
    except McpUnavailableError as exc:
        elapsed = round((time.perf_counter() - started) * 1000, 3)
        return McpTestResult(ok=False, tool_count=None, error=str(exc), duration_ms=elapsed)
    elapsed = round((time.perf_counter() - started) * 1000, 3)
    return McpTestResult(ok=True, tool_count=len(tools), error=None, duration_ms=elapsed)
