"""sql_query cannot exhaust the database, the worker or the request pool.

Values and rows are cut inside the database, the answer has a byte cap, system catalogs
are never readable, and the tool's own small pool keeps heavy queries away from requests.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import make_url, text
from sqlalchemy.pool import QueuePool

from app.ai.tools.base import ToolContext, ToolError
from app.ai.tools.builtin.sql import MAX_CELL_CHARS, MAX_COLUMNS, SqlQueryArgs, SqlQueryTool
from app.db.session import Database
from tests.support.factories import SignedInUser
from tests.support.waiting import wait_for

RUNAWAY = (
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 1000000000) "
    "SELECT count(*) FROM r"
)


def _bomb(dialect: str, size: int) -> str:
    """Two values of `size` characters each, built by the database from allowed functions."""
    if dialect == "postgresql":
        return f"SELECT lpad('', {size}, 'x') AS a, lpad('', {size}, 'y') AS b"
    return f"SELECT printf('%{size}d', 1) AS a, printf('%{size}d', 2) AS b"


async def _run(tool: SqlQueryTool, context: ToolContext, sql: str) -> dict[str, Any]:
    answer: dict[str, Any] = json.loads(await tool.run(SqlQueryArgs(query=sql), context))
    return answer


@pytest.fixture
async def own_pool_tool(database: Database) -> AsyncIterator[SqlQueryTool]:
    """The tool as the catalog builds it: its own pool of one connection."""
    tool = SqlQueryTool(
        max_rows=100,
        timeout_seconds=2.0,
        database_url=database.engine.url.render_as_string(hide_password=False),
        pool_size=1,
        pool_timeout_seconds=0.2,
    )
    yield tool
    await tool.aclose()


async def test_a_byte_bomb_comes_back_cut_to_a_few_kilobytes(tool_context: ToolContext) -> None:
    dialect = tool_context.database.engine.dialect.name
    tool = SqlQueryTool(max_rows=10, timeout_seconds=10.0)

    answer = await _run(tool, tool_context, _bomb(dialect, 2_000_000))

    [[a, b]] = answer["rows"]
    assert len(a) == len(b) == MAX_CELL_CHARS + len("...[truncated]")
    assert a.endswith("...[truncated]")
    assert len(json.dumps(answer)) < 10_000


async def test_the_whole_answer_has_a_byte_cap(tool_context: ToolContext) -> None:
    tool = SqlQueryTool(max_rows=1000, timeout_seconds=10.0, max_result_bytes=5_000)
    wide_rows = (
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 500) "
        "SELECT n, lower('ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOPQRSTUVWXYZ') FROM r"
    )

    answer = await _run(tool, tool_context, wide_rows)

    assert answer["truncated"] is True
    assert 0 < len(answer["rows"]) < 500
    assert len(json.dumps(answer["rows"]).encode()) <= 5_000


async def test_values_keep_their_types(tool_context: ToolContext) -> None:
    answer = await _run(
        SqlQueryTool(max_rows=10, timeout_seconds=10.0),
        tool_context,
        "SELECT 1 AS one, 2.5 AS half, 'text' AS word, NULL AS missing",
    )

    assert answer["columns"] == ["one", "half", "word", "missing"]
    assert answer["rows"] == [[1, 2.5, "text", None]]


async def test_too_many_columns_are_refused(tool_context: ToolContext) -> None:
    wide = "SELECT " + ", ".join(f"{i} AS c{i}" for i in range(MAX_COLUMNS + 1))

    with pytest.raises(ToolError, match="columns"):
        await _run(SqlQueryTool(max_rows=10, timeout_seconds=10.0), tool_context, wide)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT name FROM sqlite_master",
        "SELECT sql FROM sqlite_schema",
        "SELECT table_name FROM information_schema.tables",
        "SELECT usename FROM pg_catalog.pg_user",
        "SELECT * FROM pg_settings",
    ],
)
async def test_system_catalogs_are_never_readable(tool_context: ToolContext, sql: str) -> None:
    with pytest.raises(ToolError, match="not available"):
        await _run(SqlQueryTool(max_rows=10, timeout_seconds=10.0), tool_context, sql)


async def test_sqlite_itself_refuses_its_catalog_past_the_guard(
    tool_context: ToolContext, database: Database
) -> None:
    if database.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    tool = SqlQueryTool(max_rows=10, timeout_seconds=10.0, blocked_tables=())

    with pytest.raises(Exception, match=r"prohibited|not authorized"):
        await tool._execute(tool_context, "SELECT name FROM sqlite_master", 10)


async def test_a_heavy_query_holds_only_the_tools_pool(
    own_pool_tool: SqlQueryTool,
    tool_context: ToolContext,
    database: Database,
    client: httpx.AsyncClient,
    me: SignedInUser,
) -> None:
    heavy = asyncio.create_task(_run(own_pool_tool, tool_context, RUNAWAY))
    pool = own_pool_tool._engine_for(tool_context).pool
    assert isinstance(pool, QueuePool)
    await wait_for(lambda: pool.checkedout() == 1)

    with pytest.raises(ToolError, match="busy"):
        await _run(own_pool_tool, tool_context, "SELECT 1")
    profile = await client.get("/api/v1/users/me", headers=me.headers)

    assert profile.status_code == 200
    with pytest.raises(ToolError, match=r"interrupted|statement timeout"):
        await heavy
    assert (await _run(own_pool_tool, tool_context, "SELECT 1 AS one"))["rows"] == [[1]]


@pytest.mark.postgres
async def test_a_read_only_role_cannot_read_what_it_was_not_granted(
    tool_context: ToolContext, database: Database
) -> None:
    """The role README.md describes: even with the guard's blocklist off, users stay hidden."""
    if database.engine.dialect.name != "postgresql":
        pytest.skip("set TEST_DATABASE_URL to run against PostgreSQL")
    role = f"sql_reader_{uuid.uuid4().hex[:8]}"
    name = database.engine.url.database
    async with database.engine.begin() as connection:
        await connection.execute(text("CREATE TABLE IF NOT EXISTS tool_shared (v integer)"))
        for statement in (
            f"CREATE ROLE {role} LOGIN",
            f'GRANT CONNECT ON DATABASE "{name}" TO {role}',
            f"GRANT USAGE ON SCHEMA public TO {role}",
            f"GRANT SELECT ON tool_shared TO {role}",
            f"ALTER ROLE {role} SET default_transaction_read_only = on",
        ):
            await connection.execute(text(statement))
    url = make_url(database.engine.url).set(username=role, password=None)
    tool = SqlQueryTool(
        max_rows=10,
        timeout_seconds=10.0,
        blocked_tables=(),
        database_url=url.render_as_string(hide_password=False),
    )
    try:
        assert (await _run(tool, tool_context, "SELECT count(*) FROM tool_shared"))["rows"] == [[0]]
        with pytest.raises(ToolError, match="permission denied"):
            await _run(tool, tool_context, "SELECT email FROM users")
    finally:
        await tool.aclose()
        async with database.engine.begin() as connection:
            await connection.execute(text("DROP TABLE tool_shared"))
            await connection.execute(text(f"DROP OWNED BY {role}"))
            await connection.execute(text(f"DROP ROLE {role}"))


async def test_the_service_runs_the_tool_on_its_own_pool_and_bounded(
    app: FastAPI, client: httpx.AsyncClient, me: SignedInUser, database: Database
) -> None:
    dialect = database.engine.dialect.name

    response = await client.post(
        "/api/v1/tools/sql_query/execute",
        json={"arguments": {"query": _bomb(dialect, 5_000_000)}},
        headers=me.headers,
    )

    assert response.status_code == 200
    result = response.json()
    assert result["is_error"] is False
    assert len(result["content"]) < 10_000
    tool = app.state.tools.get("sql_query")
    assert isinstance(tool, SqlQueryTool)
    assert tool._engine is not None
    assert tool._engine is not database.engine
    assert isinstance(tool._engine.pool, QueuePool)
    assert tool._engine.pool.size() == app.state.settings.sql_tool_pool_size
