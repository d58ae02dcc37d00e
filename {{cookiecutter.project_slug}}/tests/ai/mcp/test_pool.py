"""The session pool on its own, against the test MCP server started as a process."""

from __future__ import annotations

import uuid
from dataclasses import replace

from app.ai.mcp.pool import McpPool, McpServerSpec
from tests.support.mcp_servers import STDIO_COMMAND, http_mcp_server


def _spec(**fields: object) -> McpServerSpec:
    values: dict[str, object] = {
        "connection_id": uuid.uuid4(),
        "name": "test",
        "revision": "1",
        "timeout_seconds": 20.0,
        "command": tuple(STDIO_COMMAND),
    }
    return McpServerSpec(**(values | fields))  # type: ignore[arg-type]


async def test_a_session_is_reused_until_its_connection_changes() -> None:
    pool = McpPool()
    spec = _spec()
    try:
        first = await pool.list_tools(spec)
        result = await pool.call_tool(spec, "add", {"a": 1, "b": 2})
        assert pool.live() == 1
        changed = replace(spec, revision="2")
        await pool.call_tool(changed, "add", {"a": 1, "b": 1})
        assert pool.live() == 1
    finally:
        await pool.aclose()

    assert "add" in [tool.name for tool in first]
    assert result.content[0].text == "3"  # type: ignore[union-attr]
    assert pool.live() == 0


async def test_shutdown_closes_every_session() -> None:
    pool = McpPool()
    with http_mcp_server() as url:
        await pool.list_tools(_spec(url=url, command=()))
        await pool.list_tools(_spec())
        assert pool.live() == 2

        await pool.aclose()

    assert pool.live() == 0
