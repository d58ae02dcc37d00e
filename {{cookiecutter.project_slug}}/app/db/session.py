"""Engine and session factory, owned by the application's lifespan."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from typing import Any

from sqlalchemy import event, make_url, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from app.core.config import Settings
from app.core.outages import OUTAGE_ERRORS
from app.core.waiting import Backoff, DependencyUnreachableError, wait_until_reachable
from app.db.tracking import RowChange, TrackedAsyncSession, changed_rows, wrote

# Told which rows a finished transaction changed; must not raise.
ChangeListener = Callable[[frozenset[RowChange]], Awaitable[None]]

# One start-up attempt gives up after this long, e.g. on a host that drops packets.
CONNECT_ATTEMPT_TIMEOUT_SECONDS = 5.0


def create_engine(settings: Settings) -> AsyncEngine:
    """Build the engine with a bounded pool; SQLite also gets its pragmas."""
    # hide_parameters: values (emails, password hashes, prompts) never reach a log line or
    # an exception's text; the statement with its placeholders is enough to debug.
    # pre-ping costs a round trip per checkout, which a cached signed-in user never makes;
    # without it a connection the server closed fails the work that draws it.
    options: dict[str, Any] = {
        "echo": settings.database_echo,
        "pool_pre_ping": settings.pool_pre_ping,
        "hide_parameters": True,
    }
    if ":memory:" not in settings.database_url:
        options["pool_size"] = settings.database_pool_size
        options["max_overflow"] = settings.database_max_overflow
        # A full pool answers 503 soon rather than holding the request for 30 s.
        options["pool_timeout"] = settings.database_pool_timeout_seconds
        options["pool_recycle"] = settings.database_pool_recycle_seconds
    engine = create_async_engine(settings.database_url, **options)
    if settings.is_sqlite:
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """SQLite ignores foreign keys unless asked, and WAL lets readers and a writer overlap."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    # In WAL mode NORMAL never corrupts the file and skips an fsync per commit.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def background_slots(settings: Settings) -> int:
    """Connections background work may hold at once: a third of the pool stays for requests.

    SQLite writes one transaction at a time whatever the pool, so there it is one.
    """
    if settings.is_sqlite:
        return 1
    capacity = settings.database_pool_size + settings.database_max_overflow
    return max(1, capacity - max(1, capacity // 3))


class Database:
    """One engine and its session factory; the API and agent runs both draw from it."""

    def __init__(self, settings: Settings) -> None:
        self.engine = create_engine(settings)
        self.session_factory = async_sessionmaker(
            self.engine, class_=TrackedAsyncSession, expire_on_commit=False
        )
        self.background_slots = background_slots(settings)
        self._turns: asyncio.Semaphore | None = None
        # Shared with the background view, which copies this list's reference.
        self._listeners: list[ChangeListener] = []

    def on_change(self, listener: ChangeListener) -> None:
        """Call `listener` with the rows each transaction changed, once it has ended."""
        self._listeners.append(listener)

    def for_background(self) -> Database:
        """The same engine for work that can wait its turn, such as agent runs.

        Its transactions queue here, `background_slots` at a time, rather than in the pool,
        whose short timeout would fail them in a burst; the connections left over stay free
        for requests, which fail fast rather than wait behind the burst.
        """
        view = copy.copy(self)
        view._turns = asyncio.Semaphore(self.background_slots)
        return view

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session that commits what the block wrote and rolls back when it raises.

        It connects at its first statement, so a block that runs none costs no database
        work; a block that only read ends without a COMMIT (closing rolls it back).
        """
        async with self._turn():
            session = self.session_factory()
            try:
                yield session
                if session.in_transaction() and wrote(session):
                    await session.commit()
            finally:
                try:
                    if session.in_transaction():
                        await session.close()
                finally:
                    await self._announce(changed_rows(session))

    async def _announce(self, changes: frozenset[RowChange]) -> None:
        """Tell the listeners what changed, rolled back changes too: forgetting is safe."""
        if changes:
            for listener in self._listeners:
                await listener(changes)

    def _turn(self) -> AbstractAsyncContextManager[Any]:
        """A background slot, or nothing to wait for on the request path."""
        return self._turns if self._turns is not None else nullcontext()

    async def dispose(self) -> None:
        """Close every pooled connection at shutdown."""
        await self.engine.dispose()


class DatabaseUnreachableError(DependencyUnreachableError):
    """Start-up could not connect to DATABASE_URL; the message is the one line to print."""


def database_location(url: str) -> str:
    """Where DATABASE_URL points, without user or password: `host:port`, or the file."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite file {parsed.database or ':memory:'}"
    default_ports = {"postgresql": 5432, "mysql": 3306}
    port = parsed.port or default_ports.get(parsed.get_backend_name())
    return f"{parsed.host or 'localhost'}:{port}" if port else parsed.host or "localhost"


async def wait_for_database(settings: Settings) -> None:
    """Connect once, retrying outages with a jittered doubling backoff; raise when all failed.

    A database that comes up a moment after the service (compose, a restarting node) is
    waited for; one that never does ends start-up with `DatabaseUnreachableError`.
    """
    engine = create_async_engine(settings.database_url, poolclass=NullPool, hide_parameters=True)
    location = database_location(settings.database_url)
    attempts = settings.database_connect_attempts

    async def select_one() -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    def give_up(reason: str) -> DatabaseUnreachableError:
        return DatabaseUnreachableError(
            f"DATABASE_URL: the database at {location} is unreachable after {attempts} "
            f"attempts ({reason}); start it or correct DATABASE_URL"
        )

    try:
        await wait_until_reachable(
            "database",
            select_one,
            Backoff(
                attempts,
                settings.database_connect_backoff_seconds,
                settings.database_connect_max_backoff_seconds,
            ),
            location=location,
            outages=OUTAGE_ERRORS,
            attempt_timeout_seconds=CONNECT_ATTEMPT_TIMEOUT_SECONDS,
            give_up=give_up,
        )
    finally:
        await engine.dispose()
