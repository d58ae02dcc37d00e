"""The catalogs: every built-in and custom tool is offered, each built from its own settings."""

from __future__ import annotations

from app.ai.tools.builtin import HttpFetchTool, ListFilesTool, SqlQueryTool
from app.ai.tools.catalog import BUILTIN_TOOLS, build_default_registry
from app.ai.tools.custom.catalog import CUSTOM_TOOLS
from app.core.config import Settings

SHIPPED = {
    "calculator",
    "current_time",
    "http_fetch",
    "read_file",
    "write_file",
    "list_files",
    "sql_query",
}


def test_the_default_registry_offers_every_catalog_entry(settings: Settings) -> None:
    registry = build_default_registry(settings)
    entries = [*BUILTIN_TOOLS, *CUSTOM_TOOLS]
    expected = [entry.tool.name for entry in entries if entry.offered(settings)]
    assert registry.names() == expected
    assert set(expected) >= SHIPPED
    for definition in registry.definitions():
        assert definition.description
        assert definition.parameters["type"] == "object"


def test_sql_is_left_out_on_a_database_it_cannot_lock_down(settings: Settings) -> None:
    other = settings.model_copy(update={"database_url": "mysql+aiomysql://u@db/app"})
    registry = build_default_registry(other)
    assert "sql_query" not in registry
    assert len(registry) == len(build_default_registry(settings)) - 1


def test_each_tool_gets_its_own_settings(settings: Settings) -> None:
    tuned = settings.model_copy(
        update={
            "http_fetch_max_bytes": 123,
            "sql_tool_max_rows": 7,
            "tool_timeout_seconds": 9.0,
            "sql_tool_timeout_seconds": 2.5,
            "sql_tool_max_result_bytes": 4096,
            "sql_tool_database_url": "sqlite+aiosqlite:///reader.db",
            "sql_tool_pool_size": 3,
        }
    )
    registry = build_default_registry(tuned)
    fetch, files, sql = (
        registry.get("http_fetch"),
        registry.get("list_files"),
        registry.get("sql_query"),
    )
    assert isinstance(fetch, HttpFetchTool)
    assert (fetch.max_bytes, fetch.timeout_seconds) == (123, 9.0)
    assert isinstance(files, ListFilesTool)
    assert files.sandbox_dir == tuned.tools_sandbox_dir
    assert isinstance(sql, SqlQueryTool)
    assert (sql.max_rows, sql.timeout_seconds, sql.max_result_bytes) == (7, 2.5, 4096)
    assert (sql.database_url, sql.pool_size) == ("sqlite+aiosqlite:///reader.db", 3)


def test_sql_uses_the_service_database_unless_given_its_own(settings: Settings) -> None:
    sql = build_default_registry(settings).get("sql_query")
    assert isinstance(sql, SqlQueryTool)
    assert sql.database_url == settings.database_url
