"""sql_query's lexical guard on its own: what it lets through and what it refuses."""

from __future__ import annotations

import re

import pytest

from app.ai.tools.base import ToolError
from app.ai.tools.builtin.sql_guard import ALLOWED_FUNCTIONS, validate_query

BLOCKED = frozenset({"users", "agents", "messages"})
DIALECTS = ["sqlite", "postgresql"]


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
