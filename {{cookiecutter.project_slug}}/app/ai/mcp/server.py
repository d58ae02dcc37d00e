"""The MCP server's handlers: each of the caller's active agents is a tool, `ask_<agent>`.

The caller arrives authenticated: the /mcp endpoint (app/api/mcp_server.py) puts their
id in the request's state, with the organisation they act in (their personal workspace,
or the one an `X-Organization-Id` header names, membership checked) and what their role
there allows: a viewer may list tools but not run them. A call runs the agent through the same run path as
`POST /agents/{id}/execute` and answers with its reply. With `MCP_SERVER_TOOLS` on, the
built-in tools are offered too, each run as the caller like `POST /tools/{name}/execute`.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.types import (
    CallToolRequestParams,
    CallToolResult,
    ListToolsResult,
    PaginatedRequestParams,
    TextContent,
    Tool,
)
from pydantic import BaseModel, Field, ValidationError
from starlette.requests import Request

from app.ai.mcp.names import ORGANIZATION_KEY, PERMISSIONS_KEY, USER_KEY, ask_tool_names
from app.ai.providers.base import ToolCall
from app.ai.runs import RunManager
from app.ai.tools.base import Tool as BaseTool
from app.ai.tools.base import ToolContext
from app.ai.tools.manager import ToolManager
from app.core.errors import AppError
from app.crud import agent as agent_crud
from app.crud import conversation as conversation_crud
from app.db.session import Database
from app.models import Agent, ExecutionStatus

RUN_AGENTS = "executions:run"
RUN_TOOLS = "tools:run"


class AskArguments(BaseModel):
    """What an `ask_<agent>` call takes."""

    message: str = Field(min_length=1, max_length=100_000, description="What to ask the agent")
    conversation_id: uuid.UUID | None = Field(
        default=None, description="Continue this conversation with the agent"
    )


ASK_SCHEMA = {
    key: value
    for key, value in AskArguments.model_json_schema().items()
    if key not in ("title", "description")
}


class AgentServer:
    """The MCP handlers: they read the caller that the endpoint authenticated."""

    def __init__(self, state: Any) -> None:
        self.state = state
        self.server: Server[Any] = Server(
            "agents",
            on_list_tools=self.list_tools,
            on_call_tool=self.call_tool,
        )

    @property
    def database(self) -> Database:
        """The application's database, once its lifespan has started."""
        database: Database = self.state.database
        return database

    @staticmethod
    def _caller(ctx: Any) -> uuid.UUID | None:
        """The authenticated caller's id, which the endpoint put in the request's state."""
        request: Request | None = ctx.request
        if request is None or USER_KEY not in request.scope.get("state", {}):
            return None
        owner_id: uuid.UUID = request.scope["state"][USER_KEY]
        return owner_id

    @staticmethod
    def _state(ctx: Any) -> dict[str, Any]:
        request: Request | None = ctx.request
        return {} if request is None else dict(request.scope.get("state", {}))

    def _organization(self, ctx: Any) -> uuid.UUID | None:
        """The organisation the caller acts in, which the endpoint checked."""
        organization_id: uuid.UUID | None = self._state(ctx).get(ORGANIZATION_KEY)
        return organization_id

    def _allows(self, ctx: Any, permission: str) -> bool:
        """Whether the caller's role in that organisation allows `permission`."""
        return permission in self._state(ctx).get(PERMISSIONS_KEY, frozenset())

    def _builtin_tools(self) -> dict[str, BaseTool[Any]]:
        """The registered tools by name, when the settings offer them; else none."""
        if not self.state.settings.mcp_server_tools:
            return {}
        return {tool.name: tool for tool in self.state.tools}

    async def _agents(self, ctx: Any) -> dict[str, Agent]:
        """The active agents of the organisation the caller acts in, by tool name."""
        organization_id = self._organization(ctx)
        if self._caller(ctx) is None or organization_id is None:
            return {}
        async with self.database.transaction() as session:
            agents = list(await agent_crud.list_active(session, organization_id=organization_id))
        names = ask_tool_names([(str(agent.id), agent.name) for agent in agents])
        by_id = {str(agent.id): agent for agent in agents}
        return {name: by_id[agent_id] for name, agent_id in names.items()}

    async def list_tools(self, ctx: Any, params: PaginatedRequestParams | None) -> ListToolsResult:
        """One `ask_<agent>` tool per active agent of the caller, and no one else's."""
        agents = await self._agents(ctx)
        asks = [
            Tool(
                name=name,
                description=agent.description or f"Ask the agent '{agent.name}'",
                input_schema=ASK_SCHEMA,
            )
            for name, agent in agents.items()
        ]
        if self._caller(ctx) is None:
            return ListToolsResult(tools=asks)
        builtins = [
            Tool(
                name=definition.name,
                description=definition.description,
                input_schema=definition.parameters,
            )
            for definition in (tool.definition() for tool in self._builtin_tools().values())
            if definition.name not in agents
        ]
        return ListToolsResult(tools=asks + builtins)

    async def call_tool(self, ctx: Any, params: CallToolRequestParams) -> CallToolResult:
        """Run the agent on the message and answer with its reply, or why there is none."""
        agent = (await self._agents(ctx)).get(params.name)
        if agent is None:
            return await self._run_builtin(ctx, params)
        caller_id = self._caller(ctx)
        if caller_id is None:
            return _error("Sign in to ask an agent")
        if not self._allows(ctx, RUN_AGENTS):
            return _error(f"Your role in this organization does not allow {RUN_AGENTS}")
        try:
            args = AskArguments.model_validate(params.arguments or {})
        except ValidationError as exc:
            return _error(f"Invalid arguments: {exc.errors(include_url=False)[0]['msg']}")
        runs: RunManager = self.state.runs
        try:
            async with self.database.transaction() as session:
                if args.conversation_id is not None:
                    conversation = await conversation_crud.get(
                        session,
                        conversation_id=args.conversation_id,
                        organization_id=agent.organization_id,
                    )
                    if conversation is None or conversation.agent_id != agent.id:
                        return _error("Conversation not found")
                prepared = await runs.prepare(
                    user_id=caller_id,
                    agent=agent,
                    message=args.message,
                    conversation_id=args.conversation_id,
                    session=session,
                )
        except AppError as exc:
            return _error(exc.detail)
        execution = await asyncio.shield(runs.launch(prepared))
        details = {
            "execution_id": str(execution.id),
            "conversation_id": str(execution.conversation_id),
            "status": execution.status.value,
        }
        if execution.status is not ExecutionStatus.COMPLETED:
            reason = execution.error_message or execution.status.value
            return _error(f"The run did not finish: {reason}", details)
        return CallToolResult(
            content=[TextContent(type="text", text=execution.output or "")],
            structured_content=details,
        )

    async def _run_builtin(self, ctx: Any, params: CallToolRequestParams) -> CallToolResult:
        """A built-in tool run as the caller, under the limits an agent's call has."""
        caller = self._caller(ctx)
        if caller is None or params.name not in self._builtin_tools():
            return _error(f"Unknown tool: {params.name}")
        if not self._allows(ctx, RUN_TOOLS):
            return _error(f"Your role in this organization does not allow {RUN_TOOLS}")
        manager: ToolManager = self.state.tool_manager
        call = ToolCall(
            id=f"mcp-{uuid.uuid4().hex}", name=params.name, arguments=params.arguments or {}
        )
        context = ToolContext(
            user_id=caller, database=self.database, organization_id=self._organization(ctx)
        )
        result = await manager.run_call(call, allowed={params.name}, context=context)
        return CallToolResult(
            content=[TextContent(type="text", text=result.content)], is_error=result.is_error
        )


def _error(message: str, details: dict[str, Any] | None = None) -> CallToolResult:
    """A failed call as the client reads it."""
    return CallToolResult(
        content=[TextContent(type="text", text=message)],
        structured_content=details,
        is_error=True,
    )


def build_manager(state: Any) -> StreamableHTTPSessionManager:
    """The streamable-HTTP transport over the agent handlers, stateless so any process answers."""
    return StreamableHTTPSessionManager(
        app=AgentServer(state).server, stateless=True, json_response=True
    )
