"""sql_query on the real test database (the lexical guard alone: test_sql_guard.py).

The database tests run on SQLite by default and on PostgreSQL with TEST_DATABASE_URL.
Each attack is checked twice where it matters: the guard refuses it, and the database
itself refuses it when the guard is bypassed.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from app.ai.tools.base import ToolContext, ToolError
from app.ai.tools.builtin.sql import SqlQueryArgs, SqlQueryTool, _unlock_sqlite
from app.db.session import Database


def sql_tool(*, max_rows: int = 100, timeout_seconds: float = 30.0) -> SqlQueryTool:
    return SqlQueryTool(max_rows=max_rows, timeout_seconds=timeout_seconds)


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
