r"""Read-only SQL on the application database, capped in rows and time.

Layers, so that no single parser mistake opens a hole:

1. A lexical guard: exactly one statement, starting with SELECT or WITH; no write
   keywords; no blocked tables; no `pg_*` names; functions only from an allowlist
   (PostgreSQL has readers such as `pg_read_file` and `query_to_xml`, which runs SQL
   given as a string). Escapes that could hide text from the guard (`\\`, `$$`, `U&`)
   are refused outright.
2. The database enforces it too. PostgreSQL: `SET TRANSACTION READ ONLY`, a statement
   timeout, and EXPLAIN's list of the tables the plan reads (views expanded) checked
   against the blocked set. SQLite: `PRAGMA query_only`, a progress-handler deadline
   and an authorizer that allows only reads of unblocked tables and allowlisted
   functions, decided by SQLite's own parser.
3. The transaction is never committed.
4. Sizes are bounded inside the database: the statement is wrapped so that each value
   is cut to a few kilobytes and at most `max_rows + 1` rows leave the server; rows are
   then read one at a time only until the result reaches its byte cap.
5. It runs on a small connection pool of its own (`SQL_TOOL_DATABASE_URL`, by default
   the application's database), so a heavy query never holds connections that requests
   are waiting for; a call that finds the pool busy is refused, not queued.

The service's own tables are blocked by default: they hold every user's rows (and
password hashes), and this tool cannot filter them by owner. Expose your own data
tables, or use a database role that can read only what the model may see (see
"The sql_query tool's database role" in README.md). System catalogs (`pg_*`,
`information_schema`, `sqlite_*`) are never readable.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Collection, Iterator
from typing import Any

from pydantic import Field
from sqlalchemy import make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

import app.models  # noqa: F401 - registers every table on Base.metadata
from app.ai.tools.base import Tool, ToolArguments, ToolContext, ToolError
from app.ai.tools.builtin.sql_guard import (
    ALLOWED_FUNCTIONS,
    MAX_QUERY_CHARS,
    validate_query,
)
from app.db.base import Base

MAX_CELL_CHARS = 2_000
MAX_COLUMNS = 100
MIN_CELL_CHARS = 64
DEFAULT_MAX_RESULT_BYTES = 200_000
TRUNCATED = "...[truncated]"
SUPPORTED_DIALECTS = frozenset({"postgresql", "sqlite"})
_SQLITE_READ_ACTIONS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_RECURSIVE}


class SqlQueryArgs(ToolArguments):
    """One read-only statement, capped in length before any guard reads it."""

    query: str = Field(
        min_length=1,
        max_length=MAX_QUERY_CHARS,
        description="One SELECT (or WITH ... SELECT) statement.",
    )


def _cell(value: Any) -> Any:
    """JSON-ready values; long text and binary are shortened, not dropped."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False)
    if isinstance(value, bytes | bytearray | memoryview):
        value = bytes(value).hex()
    elif hasattr(value, "isoformat"):
        value = value.isoformat()
    value = str(value)
    return value if len(value) <= MAX_CELL_CHARS else value[:MAX_CELL_CHARS] + TRUNCATED


def _database_message(exc: DBAPIError) -> str:
    """The driver's own first line, without SQLAlchemy's and asyncpg's class-name prefixes."""
    message = str(exc.orig).split("\n")[0]
    if message.startswith("<class '"):
        message = message.partition("'>: ")[2]
    return message


def _relations(plan: Any) -> Iterator[str]:
    """Every "Relation Name" in a PostgreSQL JSON plan."""
    if isinstance(plan, dict):
        if isinstance(plan.get("Relation Name"), str):
            yield plan["Relation Name"].lower()
        for value in plan.values():
            yield from _relations(value)
    elif isinstance(plan, list):
        for item in plan:
            yield from _relations(item)


def bounded_statement(
    statement: str, columns: int, *, dialect: str, cell_chars: int, rows: int
) -> str:
    """`statement` wrapped so the database itself cuts each value and stops after `rows`.

    PostgreSQL hands every value back as JSON, so a cut value and a number share a type
    (the driver decodes it); SQLite's values need no common type.
    """
    names = [f"c{index}" for index in range(columns)]
    # Each value is named three times below; PostgreSQL would otherwise inline the query
    # and compute it three times. Materialized rows are still computed only as read.
    materialized = "MATERIALIZED " if dialect == "postgresql" else ""
    if dialect == "postgresql":
        cells = [
            f"CASE WHEN length(CAST({name} AS text)) > {cell_chars} "
            f"THEN to_jsonb(left(CAST({name} AS text), {cell_chars}) || '{TRUNCATED}') "
            f"ELSE to_jsonb({name}) END"
            for name in names
        ]
    else:
        cells = [
            f"CASE WHEN length(CAST({name} AS TEXT)) > {cell_chars} "
            f"THEN substr(CAST({name} AS TEXT), 1, {cell_chars}) || '{TRUNCATED}' "
            f"ELSE {name} END"
            for name in names
        ]
    # The statement passed the guard; only numbers and names of our own are added to it.
    return (
        f"WITH _bounded_result({', '.join(names)}) AS {materialized}({statement}) "  # noqa: S608
        f"SELECT {', '.join(cells)} FROM _bounded_result LIMIT {rows}"
    )


class SqlQueryTool(Tool[SqlQueryArgs]):
    """Lets a model answer from data with SQL it writes, without any way to change it."""

    name = "sql_query"
    description = (
        "Run one read-only SQL SELECT on the database and get the rows back as JSON "
        "(columns, rows, truncated). Results are capped in rows and size; writes are refused."
    )
    arguments = SqlQueryArgs
    timeout_seconds: float

    def __init__(
        self,
        *,
        max_rows: int,
        timeout_seconds: float,
        blocked_tables: Collection[str] | None = None,
        allowed_functions: Collection[str] = ALLOWED_FUNCTIONS,
        max_result_bytes: int = DEFAULT_MAX_RESULT_BYTES,
        database_url: str | None = None,
        pool_size: int = 2,
        pool_timeout_seconds: float = 2.0,
    ) -> None:
        """`blocked_tables` defaults to every table of the service's own models.

        With `database_url` the tool keeps its own pool of `pool_size` connections (on a
        read-only role, ideally); without one it borrows the caller's database.
        """
        self.max_rows = max_rows
        self.timeout_seconds = timeout_seconds
        if blocked_tables is None:
            blocked_tables = [table.name for table in Base.metadata.tables.values()]
        self.blocked_tables = frozenset(name.lower() for name in blocked_tables)
        self.allowed_functions = frozenset(name.lower() for name in allowed_functions)
        self.max_result_bytes = max_result_bytes
        self.database_url = database_url
        self.pool_size = pool_size
        self.pool_timeout_seconds = pool_timeout_seconds
        self._engine: AsyncEngine | None = None

    @staticmethod
    def supports(database_url: str) -> bool:
        """Whether this tool knows how to make the database refuse writes."""
        return make_url(database_url).get_backend_name() in SUPPORTED_DIALECTS

    def _engine_for(self, context: ToolContext) -> AsyncEngine:
        if self.database_url is None:
            return context.database.engine
        if self._engine is None:
            # A busy pool is a refusal after a short wait, never a queue behind heavy calls.
            self._engine = create_async_engine(
                self.database_url,
                pool_size=self.pool_size,
                max_overflow=0,
                pool_timeout=self.pool_timeout_seconds,
                pool_pre_ping=True,
            )
        return self._engine

    async def aclose(self) -> None:
        """Close the tool's own pool at shutdown."""
        engine, self._engine = self._engine, None
        if engine is not None:
            await engine.dispose()

    async def run(self, args: SqlQueryArgs, context: ToolContext) -> str:
        """Validate, then run inside a read-only transaction that is rolled back."""
        engine = self._engine_for(context)
        dialect = engine.dialect.name
        if dialect not in SUPPORTED_DIALECTS:
            raise ToolError(f"sql_query does not support {dialect} databases")
        statement = validate_query(
            args.query,
            dialect=dialect,
            blocked_tables=self.blocked_tables,
            allowed_functions=self.allowed_functions,
        )
        limit = self.max_rows
        try:
            columns, rows = await self._execute(context, statement, limit + 1, bounded=True)
        except PoolTimeoutError:
            raise ToolError("sql_query is busy with other queries; try again shortly") from None
        except DBAPIError as exc:
            raise ToolError(f"Query failed: {_database_message(exc)}") from None
        except Exception as exc:
            # asyncpg's streaming cursor raises its own errors, unwrapped by SQLAlchemy.
            if not hasattr(exc, "sqlstate"):
                raise
            raise ToolError(f"Query failed: {str(exc).splitlines()[0]}") from None
        return self._answer(columns, rows, limit)

    def _answer(self, columns: list[str], rows: list[tuple[Any, ...]], limit: int) -> str:
        """The rows as JSON, stopping before the answer passes its byte cap."""
        kept: list[list[Any]] = []
        size = 0
        for row in rows[:limit]:
            cells = [_cell(value) for value in row]
            size += len(json.dumps(cells, ensure_ascii=False).encode()) + len(", ")
            if size > self.max_result_bytes:
                break
            kept.append(cells)
        answer = {"columns": columns, "rows": kept, "truncated": len(rows) > len(kept)}
        return json.dumps(answer, ensure_ascii=False)

    async def _execute(
        self, context: ToolContext, statement: str, max_rows: int, *, bounded: bool = False
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """At most `max_rows` rows; the connection leaves exactly as it came.

        `bounded` wraps the statement so the database cuts values and rows itself.
        """
        seconds = self.timeout_seconds
        async with self._engine_for(context).connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            try:
                if sqlite:
                    await self._lock_sqlite(connection, seconds)
                else:
                    await self._lock_postgresql(connection, seconds, statement)
                if not bounded:
                    return await _fetch(connection, statement, max_rows)
                columns = await _columns(connection, statement)
                cell_chars = max(
                    MIN_CELL_CHARS,
                    min(MAX_CELL_CHARS, self.max_result_bytes // max(len(columns), 1)),
                )
                wrapped = bounded_statement(
                    statement,
                    len(columns),
                    dialect=connection.dialect.name,
                    cell_chars=cell_chars,
                    rows=max_rows,
                )
                return columns, (await _fetch(connection, wrapped, max_rows))[1]
            finally:
                if sqlite:
                    await _unlock_sqlite(connection)

    async def _lock_postgresql(
        self, connection: AsyncConnection, seconds: float, statement: str
    ) -> None:
        await connection.exec_driver_sql("SET TRANSACTION READ ONLY")
        await connection.exec_driver_sql(f"SET LOCAL statement_timeout = {int(seconds * 1000)}")
        explain = _text("EXPLAIN (FORMAT JSON) " + statement)
        plan = (await connection.execute(explain)).scalar_one()
        for relation in _relations(json.loads(plan) if isinstance(plan, str) else plan):
            if relation in self.blocked_tables:
                raise ToolError(f"{relation!r} is not available to this tool")

    async def _lock_sqlite(self, connection: AsyncConnection, seconds: float) -> None:
        blocked, functions = self.blocked_tables, self.allowed_functions

        def authorize(action: int, arg1: str | None, arg2: str | None, *_: object) -> int:
            if action in _SQLITE_READ_ACTIONS:
                return sqlite3.SQLITE_OK
            table = (arg1 or "").lower()
            if action == sqlite3.SQLITE_READ and not (
                table in blocked or table.startswith("sqlite_")
            ):
                return sqlite3.SQLITE_OK
            if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in functions:
                return sqlite3.SQLITE_OK
            return sqlite3.SQLITE_DENY

        deadline = time.monotonic() + seconds
        await connection.exec_driver_sql("PRAGMA query_only = ON")
        raw = await _driver(connection)
        await raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        await raw.set_authorizer(authorize)


def _text(statement: str) -> Any:
    # Colons are escaped so that text() does not read `'10:30'` as a bind parameter.
    return text(statement.replace(":", "\\:"))


async def _fetch(
    connection: AsyncConnection, statement: str, max_rows: int
) -> tuple[list[str], list[tuple[Any, ...]]]:
    result = await connection.stream(_text(statement))
    try:
        rows = await result.fetchmany(max_rows) if max_rows > 0 else []
        return list(result.keys()), [tuple(row) for row in rows]
    finally:
        await result.close()


async def _columns(connection: AsyncConnection, statement: str) -> list[str]:
    """The statement's column names, without running it for any row."""
    probe = f"SELECT * FROM ({statement}) AS _columns LIMIT 0"  # noqa: S608 - guarded
    names, _ = await _fetch(connection, probe, 0)
    if len(names) > MAX_COLUMNS:
        raise ToolError(
            f"The query returns {len(names)} columns; at most {MAX_COLUMNS} are allowed"
        )
    return names


async def _driver(connection: AsyncConnection) -> Any:
    """The aiosqlite connection underneath, for the hooks SQLAlchemy does not expose."""
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None
    return driver


async def _unlock_sqlite(connection: AsyncConnection) -> None:
    """Pooled connections are shared: undo every restriction, or drop the connection."""
    try:
        raw = await _driver(connection)
        await raw.set_authorizer(None)
        await raw.set_progress_handler(None, 0)
        await connection.exec_driver_sql("PRAGMA query_only = OFF")
    except BaseException:
        await connection.invalidate()
        raise
