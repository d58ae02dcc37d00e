"""This service as an MCP server at /mcp, authenticated like the REST API.

An access token or an API key is the bearer credential; a request without a valid one is
a 401 before the MCP transport sees it. The caller acts in their personal workspace, or in
the organisation an `X-Organization-Id` header names: a member's, else a 404. The transport
and its handlers (app/ai/mcp/server.py) load on the first authenticated call: the MCP SDK
takes about half a second to import, which a process that never serves an MCP client
should not pay at start-up.
"""

from __future__ import annotations

import asyncio
import importlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from app.ai.mcp.names import ORGANIZATION_KEY, PERMISSIONS_KEY, USER_KEY
from app.api.access import ORGANIZATION_HEADER, Access, resolve_access
from app.api.deps import get_current_user
from app.core.errors import AppError, UnprocessableError
from app.crud.user_cache import Caller
from app.db.session import Database

if TYPE_CHECKING:
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager


class McpEndpoint:
    """The ASGI app at /mcp: authenticates the caller, then hands over to the MCP transport."""

    def __init__(self, state: Any) -> None:
        self.state = state
        self.transport = McpTransport(state)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a missing or bad credential with 401, as the REST API does."""
        request = Request(scope, receive)
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        try:
            caller = await get_current_user(
                request, token.strip() if scheme.lower() == "bearer" else None
            )
        except AppError as exc:
            headers = {"WWW-Authenticate": "Bearer", **(exc.headers or {})}
            await _refuse(exc, headers)(scope, receive, send)
            return
        try:
            access = await self._access(request, caller)
        except AppError as exc:
            await _refuse(exc, exc.headers or {})(scope, receive, send)
            return
        manager = await self.transport.manager()
        if manager is None:
            stopping = JSONResponse(
                {"detail": "Shutting down"}, status_code=503, headers={"Retry-After": "1"}
            )
            await stopping(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state[USER_KEY] = caller.id
        state[ORGANIZATION_KEY] = access.organization_id
        state[PERMISSIONS_KEY] = access.permissions
        await manager.handle_request(scope, receive, send)

    async def _access(self, request: Request, caller: Caller) -> Access:
        """The caller's membership of the organisation the header names, or of their own."""
        named = request.headers.get(ORGANIZATION_HEADER)
        try:
            organization_id = None if named is None else uuid.UUID(named)
        except ValueError:
            raise UnprocessableError(f"{ORGANIZATION_HEADER} is not an organisation id") from None
        database: Database = self.state.database
        async with database.transaction() as session:
            return await resolve_access(session, caller, organization_id)


class McpTransport:
    """The MCP SDK's session manager: started by the first call, stopped with the app.

    Its task group is held by a task of its own: the request that starts it ends long
    before the transport, and a cancel scope must end in the task it began in.
    """

    def __init__(self, state: Any) -> None:
        self.state = state
        self._manager: StreamableHTTPSessionManager | None = None
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._stop = asyncio.Event()

    async def manager(self) -> StreamableHTTPSessionManager | None:
        """The running session manager, started on first use; None once shutting down."""
        if self._manager is None and not self._stop.is_set():
            async with self._lock:
                if self._manager is None and not self._stop.is_set():
                    self._manager = await self._start()
        return None if self._stop.is_set() else self._manager

    async def _start(self) -> StreamableHTTPSessionManager:
        """Import the SDK off the event loop, build the manager and enter its task group."""
        server = await asyncio.to_thread(importlib.import_module, "app.ai.mcp.server")
        manager: StreamableHTTPSessionManager = server.build_manager(self.state)
        started = asyncio.Event()

        async def hold() -> None:
            async with manager.run():
                started.set()
                await self._stop.wait()

        task = asyncio.create_task(hold(), name="mcp-server")
        waiting = asyncio.create_task(started.wait())
        await asyncio.wait({task, waiting}, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        if task.done():
            task.result()  # the transport failed to start: say why
        self._task = task
        return manager

    async def stop(self) -> None:
        """Close every session and leave the task group, if it was ever entered."""
        self._stop.set()
        if self._task is not None:
            await self._task


def _refuse(exc: AppError, headers: dict[str, str]) -> JSONResponse:
    """The error as the REST API would answer it."""
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)


def install_mcp_server(app: FastAPI) -> None:
    """Serve /mcp; its transport starts with the application's lifespan (`mcp_running`)."""
    endpoint = McpEndpoint(app.state)
    app.state.mcp_endpoint = endpoint
    app.router.routes.append(Route("/mcp", endpoint, include_in_schema=False))


@asynccontextmanager
async def mcp_running(app: FastAPI) -> AsyncIterator[None]:
    """Serve, then stop the MCP transport if a call started it."""
    endpoint: McpEndpoint | None = getattr(app.state, "mcp_endpoint", None)
    try:
        yield
    finally:
        if endpoint is not None:
            await endpoint.transport.stop()
