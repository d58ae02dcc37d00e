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
import re
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
from app.db.base import Base

MAX_QUERY_CHARS = 10_000
MAX_CELL_CHARS = 2_000
MAX_COLUMNS = 100
MIN_CELL_CHARS = 64
DEFAULT_MAX_RESULT_BYTES = 200_000
TRUNCATED = "...[truncated]"
# Schemas of system catalogs: never readable, whatever a role's grants say.
CATALOG_NAMES = frozenset({"information_schema", "pg_catalog", "pg_toast"})
SUPPORTED_DIALECTS = frozenset({"postgresql", "sqlite"})


def _words(names: str) -> frozenset[str]:
    return frozenset(names.split())


ALLOWED_FUNCTIONS = _words(
    """count sum avg min max total group_concat string_agg array_agg json_agg jsonb_agg
    json_group_array json_group_object bool_and bool_or every stddev stddev_pop stddev_samp
    variance var_pop var_samp percentile_cont percentile_disc mode row_number rank dense_rank
    percent_rank cume_dist ntile lag lead first_value last_value nth_value abs round ceil
    ceiling floor trunc mod power pow sqrt exp ln log log10 log2 sign pi sin cos tan asin acos
    atan atan2 degrees radians random width_bucket coalesce nullif ifnull iif greatest least
    length char_length character_length octet_length lower upper trim ltrim rtrim btrim substr
    substring replace instr position strpos concat concat_ws left right lpad rpad reverse
    split_part initcap format printf quote hex unicode char chr ascii like glob starts_with
    regexp_replace regexp_match regexp_matches date time datetime julianday strftime unixepoch
    date_trunc date_part extract to_char to_date to_timestamp to_number age make_date
    make_time make_timestamp make_interval now timezone json jsonb json_extract json_array
    json_object json_array_length json_type json_valid json_quote
    json_build_object jsonb_build_object json_build_array jsonb_build_array to_json to_jsonb
    row_to_json json_object_agg jsonb_object_agg json_extract_path json_extract_path_text
    jsonb_extract_path jsonb_extract_path_text jsonb_array_length json_typeof jsonb_typeof
    json_array_elements jsonb_array_elements json_each_text jsonb_each jsonb_each_text
    json_object_keys jsonb_object_keys generate_series unnest array_length array_to_string
    string_to_array cardinality typeof varchar character numeric decimal float real timestamp
    timestamptz interval bit -> ->>"""
)
# Words that may precede "(" without being a function call.
_PAREN_KEYWORDS = _words(
    """select from where and or not in exists as on using join values over filter within cast
    case when then else by having distinct is between like ilike with recursive materialized
    any all some array row lateral union intersect except limit offset partition order group
    rows range groups escape cube rollup sets grouping"""
)
_WRITE_KEYWORDS = _words(
    """insert update delete merge upsert into truncate drop create alter attach detach pragma
    grant revoke copy vacuum reindex"""
)
_SQLITE_READ_ACTIONS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_RECURSIVE}

_COMMON = r"""
    (?P<space>\s+) | (?P<comment>--[^\n]*|/\*.*?\*/)
  | (?P<string>'(?:[^']|'')*') | (?P<quoted>"(?:[^"]|"")*")
  | (?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)
  | (?P<word>[^\W\d]\w*)"""
_TOKENS = {
    "postgresql": re.compile(_COMMON + r" | (?P<symbol>\S)", re.VERBOSE | re.DOTALL),
    # SQLite also quotes names as [name] and `name`.
    "sqlite": re.compile(
        _COMMON + r" | (?P<bracketed>\[[^\]]*\]|`(?:[^`]|``)*`) | (?P<symbol>\S)",
        re.VERBOSE | re.DOTALL,
    ),
}


_OPEN_QUOTES = {"postgresql": "'\"", "sqlite": "'\"`["}


def _tokens(statement: str, dialect: str) -> Iterator[tuple[str, str]]:
    """(kind, text) pairs, names lower-cased and unquoted, without spaces and comments."""
    for match in _TOKENS[dialect].finditer(statement):
        kind, value = match.lastgroup or "symbol", match.group()
        if kind in ("space", "comment"):
            continue
        if kind in ("quoted", "bracketed"):
            yield "name", value[1:-1].replace(value[0] * 2, value[0]).lower()
        elif kind == "symbol" and value in _OPEN_QUOTES[dialect]:
            raise ToolError("Unterminated quote in the query")
        else:
            yield kind, value.lower() if kind == "word" else value


def _close_paren(tokens: list[tuple[str, str]], start: int) -> int:
    """The index just past the parenthesis that closes the one at `start`."""
    depth = 0
    for index in range(start, len(tokens)):
        if tokens[index] == ("symbol", "("):
            depth += 1
        elif tokens[index] == ("symbol", ")"):
            depth -= 1
            if depth == 0:
                return index + 1
    raise ToolError("Unbalanced parentheses in the query")


def _is_name_list(tokens: list[tuple[str, str]], start: int) -> bool:
    """`(a, b)` or `(10, 2)`: column aliases or type modifiers, never a function's arguments."""
    inner = tokens[start + 1 : _close_paren(tokens, start) - 1]
    return all(kind in ("word", "name", "number") or text == "," for kind, text in inner)


def _cte_names(tokens: list[tuple[str, str]]) -> set[int]:
    """Positions of `WITH name(cols) AS (...)` names, whose parentheses are not calls."""

    def at(index: int) -> tuple[str, str]:
        return tokens[index] if index < len(tokens) else ("end", "")

    index = 2 if at(1) == ("word", "recursive") else 1
    names: set[int] = set()
    while True:
        if at(index)[0] not in ("word", "name"):
            raise ToolError("Could not read the WITH clause")
        if at(index + 1) == ("symbol", "("):
            names.add(index)
            index = _close_paren(tokens, index + 1)
        else:
            index += 1
        if at(index) != ("word", "as"):
            raise ToolError("Could not read the WITH clause")
        index += 1
        for optional in ("not", "materialized"):
            index += at(index) == ("word", optional)
        if at(index) != ("symbol", "("):
            raise ToolError("Could not read the WITH clause")
        index = _close_paren(tokens, index)
        if at(index) != ("symbol", ","):
            return names
        index += 1


def validate_query(
    query: str, *, dialect: str, blocked_tables: Collection[str], allowed_functions: Collection[str]
) -> str:
    """The statement to run, or a `ToolError` naming what the lexical guard refused."""
    statement = query.strip().rstrip(";").rstrip()
    if not statement:
        raise ToolError("The query is empty")
    if len(statement) > MAX_QUERY_CHARS:
        raise ToolError(f"The query is longer than {MAX_QUERY_CHARS} characters")
    if re.search(r"[\\$\x00]|&['\"]", statement):
        raise ToolError("Backslashes, '$' and U&'' escapes are not allowed in queries")
    tokens = list(_tokens(statement, dialect))
    if not tokens or tokens[0] not in (("word", "select"), ("word", "with")):
        raise ToolError("Only a single SELECT (or WITH ... SELECT) statement is allowed")
    ctes = _cte_names(tokens) if tokens[0][1] == "with" else set()
    for index, (kind, word) in enumerate(tokens):
        if (kind, word) == ("symbol", ";"):
            raise ToolError("Only a single statement is allowed")
        if kind not in ("word", "name"):
            continue
        if kind == "word" and word in _WRITE_KEYWORDS:
            raise ToolError(f"{word.upper()} is not allowed: this tool only reads")
        if word in blocked_tables or word in CATALOG_NAMES or word.startswith(("pg_", "sqlite_")):
            raise ToolError(f"{word!r} is not available to this tool")
        calls = tokens[index + 1 : index + 2] == [("symbol", "(")]
        if (
            calls
            and index not in ctes
            and word not in allowed_functions
            and not (kind == "word" and word in _PAREN_KEYWORDS)
            and not (tokens[index - 1] == ("word", "as") and _is_name_list(tokens, index + 1))
        ):
            raise ToolError(f"Function {word}() is not allowed")
    return statement


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
    return value if len(value) <= MAX_CELL_CHARS else value[:MAX_CELL_CHARS] + "...[truncated]"


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
