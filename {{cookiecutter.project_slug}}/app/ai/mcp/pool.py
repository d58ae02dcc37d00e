"""Pooled MCP client sessions: one live session per connection, reused across runs.

Each session is held open by its own task, so a transport that fails (a server that dies
mid-call) ends that task only, never the caller's. A call races its session's end, so it
fails at once with a clear reason instead of waiting out its time limit; the next use
connects again. Everything is closed at shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import structlog

if TYPE_CHECKING:
    from mcp import Client
    from mcp.types import CallToolResult, Tool

logger = structlog.get_logger(__name__)

T = TypeVar("T")

CLOSE_TIMEOUT_SECONDS = 5.0


class McpUnavailableError(Exception):
    """The server could not be reached, or the connection to it ended; the message says which."""


@dataclass(frozen=True)
class McpServerSpec:
    """Everything needed to reach one connection's server; a changed spec reconnects."""

    connection_id: uuid.UUID
    name: str
    revision: str
    timeout_seconds: float
    url: str | None = None
    command: tuple[str, ...] = ()
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)


class _Session:
    """One open client session, held by a task of its own until closed or broken."""

    def __init__(self, spec: McpServerSpec) -> None:
        self.spec = spec
        self.client: Client | None = None
        self.tools: list[Tool] | None = None
        self.failure: str | None = None
        self.broken = False
        self._ready = asyncio.Event()
        self._stop = asyncio.Event()
        self.ended = asyncio.Event()
        self._task = asyncio.create_task(self._hold(), name=f"mcp:{spec.name}")

    def _client(self, stack: contextlib.AsyncExitStack) -> Client:
        # The SDK is imported on first use: most processes and requests never need it.
        from mcp import Client, StdioServerParameters
        from mcp.client.streamable_http import streamable_http_client
        from mcp.shared._httpx_utils import create_mcp_http_client

        spec = self.spec
        if spec.url is None:
            program, *args = spec.command
            return Client(StdioServerParameters(command=program, args=args), cache=None)
        http = create_mcp_http_client(headers=dict(spec.headers))
        stack.push_async_callback(http.aclose)
        return Client(streamable_http_client(spec.url, http_client=http), cache=None)

    async def _hold(self) -> None:
        try:
            async with contextlib.AsyncExitStack() as stack:
                client = self._client(stack)
                async with client:
                    self.client = client
                    self._ready.set()
                    await self._stop.wait()
        except Exception as exc:
            self.failure = describe(exc)
            logger.warning("mcp.session_ended", connection=self.spec.name, error=self.failure)
        finally:
            self.ended.set()
            self._ready.set()

    @property
    def usable(self) -> bool:
        """Open, or still opening, and no request has found it closed."""
        return not (self.ended.is_set() or self.broken)

    async def ready(self) -> Client:
        """The open client, or `McpUnavailableError` once connecting has failed."""
        try:
            async with asyncio.timeout(self.spec.timeout_seconds):
                await self._ready.wait()
        except TimeoutError:
            await self.close()
            raise McpUnavailableError(
                f"MCP server '{self.spec.name}' did not answer within {self.spec.timeout_seconds:g}s"
            ) from None
        if self.client is None or self.ended.is_set():
            raise McpUnavailableError(
                f"MCP server '{self.spec.name}' is unreachable: {self.failure or 'closed'}"
            )
        return self.client

    async def close(self) -> None:
        """Stop the session, cancelling it when it does not stop in time."""
        self._stop.set()
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT_SECONDS):
                await asyncio.shield(self._task)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        except Exception:
            logger.warning("mcp.close_failed", connection=self.spec.name, exc_info=True)


class McpPool:
    """The process's MCP sessions by connection id."""

    def __init__(self) -> None:
        self._sessions: dict[uuid.UUID, _Session] = {}
        self._lock = asyncio.Lock()
        self._closings: set[asyncio.Task[None]] = set()

    def _closing(self, session: _Session) -> None:
        """Close a replaced session in the background, keeping the task until it is done."""
        task = asyncio.create_task(session.close())
        self._closings.add(task)
        task.add_done_callback(self._closings.discard)

    async def _session(self, spec: McpServerSpec) -> _Session:
        """The live session for `spec`, opening a new one for a changed or broken one."""
        async with self._lock:
            current = self._sessions.get(spec.connection_id)
            if current is not None and current.usable and current.spec == spec:
                return current
            if current is not None:
                self._closing(current)
            session = self._sessions[spec.connection_id] = _Session(spec)
            return session

    async def list_tools(self, spec: McpServerSpec, *, refresh: bool = False) -> list[Tool]:
        """Every tool the server lists, kept with the session until it reconnects."""
        session = await self._session(spec)
        if session.tools is not None and not refresh:
            return session.tools
        client = await session.ready()
        tools: list[Tool] = []
        cursor: str | None = None
        while True:
            page = await self._guarded(
                session, client.list_tools(cursor=cursor, cache_mode="refresh")
            )
            tools.extend(page.tools)
            cursor = page.next_cursor
            if not cursor:
                break
        session.tools = tools
        return tools

    async def call_tool(
        self, spec: McpServerSpec, name: str, arguments: dict[str, Any]
    ) -> CallToolResult:
        """Call one tool; a broken session or a late answer is `McpUnavailableError`."""
        session = await self._session(spec)
        client = await session.ready()
        return await self._guarded(
            session, client.call_tool(name, arguments, read_timeout_seconds=spec.timeout_seconds)
        )

    async def _guarded(self, session: _Session, request: Awaitable[T]) -> T:
        """Await `request` unless the session ends first, which fails the request at once."""
        from mcp.shared.exceptions import MCPError
        from mcp.types import CONNECTION_CLOSED

        call = asyncio.ensure_future(request)
        ended = asyncio.ensure_future(session.ended.wait())
        try:
            await asyncio.wait({call, ended}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            ended.cancel()
            if not call.done():
                call.cancel()
        if call.done() and not call.cancelled():
            error = call.exception()
            if not (isinstance(error, MCPError) and error.code == CONNECTION_CLOSED):
                return call.result()
        session.broken = True  # the next request connects again
        raise McpUnavailableError(
            f"MCP server '{session.spec.name}' closed the connection during the call"
            + (f": {session.failure}" if session.failure else "")
        )

    def live(self) -> int:
        """How many sessions are open or opening, for health checks and tests."""
        return sum(session.usable for session in self._sessions.values())

    async def close(self, connection_id: uuid.UUID) -> None:
        """Close one connection's session, after it was changed or deleted."""
        async with self._lock:
            session = self._sessions.pop(connection_id, None)
        if session is not None:
            await session.close()

    async def aclose(self) -> None:
        """Close every session, at shutdown."""
        async with self._lock:
            sessions, self._sessions = list(self._sessions.values()), {}
        await asyncio.gather(*(session.close() for session in sessions), *self._closings)


def describe(exc: BaseException) -> str:
    """A short reason from an exception or a group of them, for logs and the model."""
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(describe(inner) for inner in exc.exceptions[:3])
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
