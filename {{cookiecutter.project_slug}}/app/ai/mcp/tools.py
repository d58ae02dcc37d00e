"""MCP server tools as agent tools, run through the same tool manager as built-in ones.

What a server returns is untrusted: only its text reaches the model, bounded here and
then NUL-stripped and size-capped by the tool manager like every tool's output.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from app.ai.mcp import names
from app.ai.mcp.connections import spec_of
from app.ai.mcp.pool import McpPool, McpServerSpec, McpUnavailableError, describe
from app.ai.providers.base import ToolDefinition
from app.ai.tools.base import Tool, ToolContext, ToolError
from app.ai.tools.workspace import organization_of
from app.core.sealing import Sealer, SealError
from app.crud import mcp_connection as connection_crud
from app.models import McpTransport

if TYPE_CHECKING:
    from mcp.types import CallToolResult
    from mcp.types import Tool as RemoteTool

# A bound on what is read out of one result before the tool manager's own, smaller cap.
MAX_RESULT_CHARS = 2_000_000


class McpArguments(BaseModel):
    """Any JSON object: the server's schema, not a pydantic model, says what is valid."""

    model_config = ConfigDict(extra="allow")


class McpTool(Tool[McpArguments]):
    """One tool of one user's MCP server, as the model is offered it."""

    name = "mcp"
    description = "A tool of an MCP server"
    arguments = McpArguments

    def __init__(
        self, pool: McpPool, spec: McpServerSpec, remote: RemoteTool, *, requires_approval: bool
    ) -> None:
        self.pool = pool
        self.spec = spec
        self.remote = remote
        self.requires_approval = requires_approval
        self.agent_name = names.agent_tool_name(spec.name, remote.name)
        self.timeout_seconds = spec.timeout_seconds

    def definition(self) -> ToolDefinition:
        """The server's own description and JSON schema, under a name vendors accept."""
        return ToolDefinition(
            name=names.model_tool_name(self.spec.name, self.remote.name),
            description=self.remote.description or self.remote.name,
            parameters=dict(self.remote.input_schema),
        )

    async def run(self, args: McpArguments, context: ToolContext) -> str:
        """Call the server; its error, its absence or its silence is a `ToolError`."""
        from mcp.shared.exceptions import MCPError

        if self.requires_approval:
            raise ToolError(
                f"{self.agent_name} requires the user's approval, which runs cannot ask for "
                "yet; it was not called"
            )
        arguments = args.model_dump()
        missing = [
            key for key in self.remote.input_schema.get("required", []) if key not in arguments
        ]
        if missing:
            raise ToolError(
                f"Invalid arguments for {self.agent_name}: missing {', '.join(missing)}"
            )
        try:
            result = await self.pool.call_tool(self.spec, self.remote.name, arguments)
        except McpUnavailableError as exc:
            raise ToolError(str(exc)) from None
        except MCPError as exc:
            raise ToolError(f"MCP server '{self.spec.name}' refused the call: {exc}") from None
        text = result_text(result)
        if result.is_error:
            raise ToolError(f"{self.agent_name} failed: {text}")
        return text


def result_text(result: CallToolResult) -> str:
    """The result's text, structured content as JSON when there is no text, bounded."""
    from mcp.types import TextContent

    parts: list[str] = []
    size = 0
    for block in result.content:
        text = block.text if isinstance(block, TextContent) else f"[{block.type} content omitted]"
        parts.append(text[: MAX_RESULT_CHARS - size])
        size += len(parts[-1])
        if size >= MAX_RESULT_CHARS:
            break
    if not parts and result.structured_content is not None:
        parts.append(json.dumps(result.structured_content)[:MAX_RESULT_CHARS])
    return "\n".join(parts)


class McpToolSource:
    """Resolves `mcp:<connection>:<tool>` for the calling user, through the pool."""

    def __init__(self, pool: McpPool, sealer: Sealer, *, allow_stdio: bool) -> None:
        self.pool = pool
        self.sealer = sealer
        self.allow_stdio = allow_stdio

    def accepts(self, name: str) -> bool:
        """Whether `name` is an MCP tool name; the connection is checked when it is used."""
        return names.split_agent_name(name) is not None

    def agent_name(self, model_name: str) -> str | None:
        """The agent's name for a tool the model called, when it is an MCP tool."""
        return names.agent_name_of_model_name(model_name)

    async def resolve(self, name: str, context: ToolContext) -> Tool[Any]:
        """The user's tool called `name`, or a `ToolError` that says why it cannot be used."""
        parts = names.split_agent_name(name)
        if parts is None:
            raise ToolError(f"Tool {name!r} does not exist")
        connection_name, tool_name = parts
        async with context.database.transaction() as session:
            organization_id = await organization_of(session, context)
            connection = await connection_crud.get_by_name(
                session, organization_id=organization_id, name=connection_name
            )
        if connection is None:
            raise ToolError(f"There is no MCP connection named '{connection_name}'")
        if connection.transport is McpTransport.STDIO and not self.allow_stdio:
            raise ToolError(f"'{connection_name}' is a stdio connection, disabled on this service")
        if connection.allowed_tools and tool_name not in connection.allowed_tools:
            raise ToolError(f"{name} is not in the allowed tools of '{connection_name}'")
        try:
            spec = spec_of(connection, self.sealer)
        except SealError as exc:
            raise ToolError(f"The headers of '{connection_name}' cannot be read: {exc}") from None
        try:
            listed = await self.pool.list_tools(spec)
        except McpUnavailableError as exc:
            raise ToolError(str(exc)) from None
        except Exception as exc:
            raise ToolError(f"MCP server '{connection_name}' failed: {describe(exc)}") from None
        remote = next((tool for tool in listed if tool.name == tool_name), None)
        if remote is None:
            raise ToolError(f"MCP server '{connection_name}' has no tool '{tool_name}'")
        approval = tool_name in connection.approval_required
        return McpTool(self.pool, spec, remote, requires_approval=approval)

    async def definition(self, name: str, context: ToolContext) -> ToolDefinition:
        """The tool as offered to a model; one that cannot be used now says why, so a call fails clearly."""
        try:
            return (await self.resolve(name, context)).definition()
        except ToolError as exc:
            connection_name, tool_name = names.split_agent_name(name) or ("unknown", name)
            return ToolDefinition(
                name=names.model_tool_name(connection_name, tool_name),
                description=f"Unavailable right now: {exc.message}",
                parameters={"type": "object", "properties": {}},
            )

    async def aclose(self) -> None:
        """Close every pooled session, at shutdown."""
        await self.pool.aclose()
