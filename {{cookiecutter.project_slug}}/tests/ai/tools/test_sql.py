"""sql_query: the lexical guard on its own, then the tool on the real test database.

The database tests run on SQLite by default and on PostgreSQL with TEST_DATABASE_URL.
Each attack is checked twice where it matters: the guard refuses it, and the database
itself refuses it when the guard is bypassed.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from app.ai.tools.base import ToolContext, ToolError
from app.ai.tools.builtin.sql import (
    ALLOWED_FUNCTIONS,
    SqlQueryArgs,
    SqlQueryTool,
    _unlock_sqlite,
    validate_query,
)
from app.db.session import Database

BLOCKED = frozenset({"users", "agents", "messages"})
DIALECTS = ["sqlite", "postgresql"]


def sql_tool(*, max_rows: int = 100, timeout_seconds: float = 30.0) -> SqlQueryTool:
    return SqlQueryTool(max_rows=max_rows, timeout_seconds=timeout_seconds)


def check(query: str, dialect: str) -> str:
    return validate_query(
        query, dialect=dialect, blocked_tables=BLOCKED, allowed_functions=ALLOWED_FUNCTIONS
    )


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(
    "query",
    [
        "SELECT 1",
        "select id, label from tool_probe where label like 'a%' order by id limit 5;",
        "WITH recent AS (SELECT * FROM tool_probe) SELECT count(*) FROM recent",
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT n FROM r",
        "WITH a AS (SELECT 1 AS x), b(y) AS NOT MATERIALIZED (SELECT x FROM a) SELECT y FROM b",
        "SELECT 'DELETE FROM users; DROP TABLE x' AS just_text",
        'SELECT "label" FROM tool_probe -- a comment; DROP TABLE x',
        "SELECT 1 /* ; DELETE FROM tool_probe */",
        "SELECT CAST(id AS varchar(10)), coalesce(label, 'none') FROM tool_probe",
        "SELECT a.id FROM tool_probe AS a JOIN tool_probe AS b ON (a.id = b.id) "
        "WHERE a.id IN (SELECT id FROM tool_probe) AND EXISTS (SELECT 1)",
        "SELECT label, count(*), max(id) FROM tool_probe GROUP BY label HAVING count(*) > 1",
        "SELECT row_number() OVER (PARTITION BY label ORDER BY id) FROM tool_probe",
    ],
)
def test_guard_accepts_plain_reads(query: str, dialect: str) -> None:
    assert check(query, dialect) == query.strip().rstrip(";")


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "empty"),
        ("  ;  ", "empty"),
        ("DELETE FROM tool_probe", "Only a single SELECT"),
        ("DROP TABLE tool_probe", "Only a single SELECT"),
        ("INSERT INTO tool_probe VALUES (1)", "Only a single SELECT"),
        ("UPDATE tool_probe SET label = 'x'", "Only a single SELECT"),
        ("PRAGMA query_only = OFF", "Only a single SELECT"),
        ("ATTACH DATABASE '/tmp/x.db' AS x", "Only a single SELECT"),
        ("EXPLAIN ANALYZE DELETE FROM tool_probe", "Only a single SELECT"),
        ("(SELECT 1)", "Only a single SELECT"),
        ("SELECT 1; DELETE FROM tool_probe", "single statement"),
        ("SELECT 1; SELECT 2", "single statement"),
        ("WITH x AS (DELETE FROM tool_probe RETURNING *) SELECT * FROM x", "DELETE is not"),
        ("WITH x AS (UPDATE tool_probe SET id = 0 RETURNING *) SELECT 1", "UPDATE is not"),
        ("WITH x AS (SELECT 1) INSERT INTO tool_probe SELECT * FROM x", "INSERT is not"),
        ("WITH x AS (SELECT 1) DELETE FROM tool_probe", "DELETE is not"),
        ("SELECT * INTO evil FROM tool_probe", "INTO is not"),
        ("SELECT * FROM tool_probe FOR UPDATE", "UPDATE is not"),
        ("SELECT 1 FROM tool_probe, (SELECT 1) AS t(attach)", "ATTACH is not"),
        ("SELECT * FROM users", "'users' is not available"),
        ('SELECT * FROM "users"', "'users' is not available"),
        ("SELECT * FROM public.users", "'users' is not available"),
        ('SELECT * FROM "USERS"', "'users' is not available"),
        ("SELECT * FROM Users", "'users' is not available"),
        ("SELECT * FROM messages", "'messages' is not available"),
        ("SELECT (SELECT hashed_password FROM users LIMIT 1)", "'users' is not available"),
        ("SELECT pg_read_file('/etc/passwd')", "'pg_read_file' is not available"),
        ("SELECT \"pg_read_file\"('/etc/passwd')", "'pg_read_file' is not available"),
        ("SELECT * FROM pg_catalog.pg_authid", "'pg_catalog' is not available"),
        ("SELECT * FROM pg_shadow", "'pg_shadow' is not available"),
        ("SELECT query_to_xml('select 1', true, true, '')", "query_to_xml() is not allowed"),
        ("SELECT ts_stat('select 1')", "ts_stat() is not allowed"),
        ("SELECT dblink('host=evil', 'select 1')", "dblink() is not allowed"),
        ("SELECT load_extension('/tmp/evil.so')", "load_extension() is not allowed"),
        ("SELECT * FROM pragma_table_info('tool_probe')", "pragma_table_info() is not allowed"),
        ("SELECT current_setting('is_superuser')", "current_setting() is not allowed"),
        ("SELECT * FROM tool_probe AS query_to_xml('select 1', true, true, '')", "not allowed"),
        (
            "WITH query_to_xml(a) AS (SELECT 1) SELECT query_to_xml('select 1', true, true, '')",
            "query_to_xml() is not allowed",
        ),
        ("SELECT E'\\x27'", "Backslashes"),
        ("SELECT $$ DELETE FROM tool_probe $$", "Backslashes, '$'"),
        ("SELECT $tag$x$tag$", "'$'"),
        ("SELECT * FROM U&\"!0075sers\" UESCAPE '!'", "U&"),
        ("SELECT 'x\x00'", "Backslashes"),
        ("SELECT 'unterminated", "Unterminated quote"),
        ('SELECT "unterminated', "Unterminated quote"),
        ("WITH x SELECT 1", "WITH clause"),
        ("WITH x AS (SELECT 1 SELECT * FROM x", "Unbalanced"),
        ("SELECT " + "1 + " * 3000 + "1", "longer than"),
    ],
)
def test_guard_refuses(query: str, message: str, dialect: str) -> None:
    with pytest.raises(ToolError, match=re.escape(message)):
        check(query, dialect)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * FROM [users]",
        "SELECT * FROM `users`",
        "SELECT [a'], (SELECT hashed_password FROM users) AS [b'] FROM tool_probe",
        "SELECT `a'`, (SELECT hashed_password FROM users) AS `b'` FROM tool_probe",
    ],
)
def test_guard_reads_sqlite_quoting_as_sqlite_does(query: str) -> None:
    with pytest.raises(ToolError, match="'users' is not available"):
        check(query, "sqlite")


def test_guard_accepts_postgresql_casts_and_arrays() -> None:
    query = "SELECT x::varchar(5), (ARRAY[1, 2])[1] FROM generate_series(1, 3) AS g(x)"
    assert check(query, "postgresql") == query


def test_supports_only_databases_it_can_lock_down() -> None:
    assert SqlQueryTool.supports("sqlite+aiosqlite:///data/app.db")
    assert SqlQueryTool.supports("postgresql+asyncpg://u@db/app")
    assert not SqlQueryTool.supports("mysql+aiomysql://u@db/app")


def test_blocks_the_services_own_tables_by_default() -> None:
    assert {"users", "agents", "conversations", "messages", "executions"} <= (
        sql_tool().blocked_tables
    )


# --- on the real database -------------------------------------------------------------

PROBE_ROWS = 3


@pytest.fixture
async def probe(database: Database) -> AsyncIterator[str]:
    """A table the tool may read, dropped afterwards."""
    async with database.engine.begin() as connection:
        await connection.execute(text("DROP TABLE IF EXISTS tool_probe"))
        await connection.execute(
            text("CREATE TABLE tool_probe (id integer PRIMARY KEY, label varchar(20))")
        )
        await connection.execute(
            text("INSERT INTO tool_probe VALUES (1, 'alpha'), (2, 'be:ta'), (3, NULL)")
        )
    yield "tool_probe"
    async with database.engine.begin() as connection:
        await connection.execute(text("DROP TABLE IF EXISTS tool_probe"))


async def probe_count(database: Database) -> int:
    async with database.engine.connect() as connection:
        return int((await connection.execute(text("SELECT count(*) FROM tool_probe"))).scalar_one())


async def query(context: ToolContext, sql: str, tool: SqlQueryTool | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = json.loads(
        await (tool or sql_tool()).run(SqlQueryArgs(query=sql), context)
    )
    return answer


async def test_returns_rows_as_json(probe: str, tool_context: ToolContext) -> None:
    answer = await query(tool_context, "SELECT id, label FROM tool_probe ORDER BY id")
    assert answer == {
        "columns": ["id", "label"],
        "rows": [[1, "alpha"], [2, "be:ta"], [3, None]],
        "truncated": False,
    }


async def test_caps_the_rows(probe: str, tool_context: ToolContext) -> None:
    answer = await query(
        tool_context, "SELECT id FROM tool_probe ORDER BY id", sql_tool(max_rows=2)
    )
    assert answer["rows"] == [[1], [2]]
    assert answer["truncated"] is True


async def test_colons_in_literals_are_not_bind_parameters(
    probe: str, tool_context: ToolContext
) -> None:
    answer = await query(tool_context, "SELECT id FROM tool_probe WHERE label = 'be:ta'")
    assert answer["rows"] == [[2]]


async def test_sql_errors_come_back_readable(probe: str, tool_context: ToolContext) -> None:
    with pytest.raises(ToolError, match=r"Query failed: .*no_such_column"):
        await query(tool_context, "SELECT no_such_column FROM tool_probe")


@pytest.mark.parametrize(
    "attack",
    [
        "DELETE FROM tool_probe",
        "DROP TABLE tool_probe",
        "SELECT 1; DELETE FROM tool_probe",
        "WITH x AS (DELETE FROM tool_probe RETURNING *) SELECT * FROM x",
        "WITH x AS (SELECT 4, 'x') INSERT INTO tool_probe SELECT * FROM x",
        "SELECT * FROM tool_probe FOR UPDATE",
        "PRAGMA query_only = OFF",
        "ATTACH DATABASE 'evil.db' AS evil",
        "SELECT hashed_password FROM users",
        "SELECT pg_read_file('/etc/passwd')",
        "SELECT * FROM pragma_table_info('users')",
    ],
)
async def test_attacks_are_refused_and_change_nothing(
    probe: str, tool_context: ToolContext, database: Database, attack: str
) -> None:
    with pytest.raises(ToolError):
        await query(tool_context, attack)
    assert await probe_count(database) == PROBE_ROWS


@pytest.mark.parametrize(
    ("write", "refusal"),
    [
        ("DELETE FROM tool_probe", "read-only|not authorized"),
        ("UPDATE tool_probe SET label = 'changed'", "read-only|not authorized"),
        ("INSERT INTO tool_probe VALUES (4, 'new')", "read-only|not authorized"),
        # PostgreSQL cannot even EXPLAIN DDL, so it fails before it could run.
        ("DROP TABLE tool_probe", "read-only|not authorized|syntax error"),
        ("CREATE TABLE tool_evil (x integer)", "read-only|not authorized|syntax error"),
    ],
)
async def test_the_database_refuses_writes_even_past_the_guard(
    probe: str, tool_context: ToolContext, database: Database, write: str, refusal: str
) -> None:
    with pytest.raises(Exception, match=refusal):
        await sql_tool()._execute(tool_context, write, 10)
    assert await probe_count(database) == PROBE_ROWS
    async with database.engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: sync.dialect.get_table_names(sync))
    assert "tool_evil" not in tables


async def test_the_database_refuses_blocked_tables_behind_a_view(
    probe: str, tool_context: ToolContext, database: Database
) -> None:
    async with database.engine.begin() as connection:
        await connection.execute(
            text("CREATE VIEW tool_probe_accounts AS SELECT email, hashed_password FROM users")
        )
    try:
        with pytest.raises(ToolError, match="users"):
            await query(tool_context, "SELECT * FROM tool_probe_accounts")
    finally:
        async with database.engine.begin() as connection:
            await connection.execute(text("DROP VIEW tool_probe_accounts"))


async def test_sqlite_attach_is_refused_by_sqlite_itself(
    tool_context: ToolContext, database: Database, tmp_path: Path
) -> None:
    if database.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    target = tmp_path / "evil.db"
    with pytest.raises(Exception, match="not authorized"):
        await sql_tool()._execute(tool_context, f"ATTACH DATABASE '{target}' AS evil", 10)
    assert not target.exists()


async def test_a_runaway_query_is_stopped_by_the_database(
    probe: str, tool_context: ToolContext
) -> None:
    runaway = (
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 1000000000) "
        "SELECT count(*) FROM r"
    )
    started = time.perf_counter()
    with pytest.raises(ToolError, match=r"Query failed: .*(interrupted|statement timeout)"):
        await query(tool_context, runaway, sql_tool(timeout_seconds=0.3))
    assert time.perf_counter() - started < 5
    assert (await query(tool_context, "SELECT count(*) FROM tool_probe"))["rows"] == [[3]]


async def test_sqlite_connections_go_back_to_the_pool_unrestricted(
    tool_context: ToolContext, database: Database
) -> None:
    if database.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only: PostgreSQL's restrictions end with the transaction")
    async with database.engine.connect() as connection:
        await sql_tool()._lock_sqlite(connection, 5.0)
        with pytest.raises(Exception, match=r"prohibited|not authorized"):
            await connection.execute(text("SELECT email FROM users"))
        await _unlock_sqlite(connection)
        assert (await connection.execute(text("PRAGMA query_only"))).scalar_one() == 0
        await connection.execute(text("SELECT email FROM users"))
