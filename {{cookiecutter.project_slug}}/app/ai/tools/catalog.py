"""The built-in tools, one entry each, with how each is built from settings.

This is the only place a tool meets `Settings`: each gets just its own configuration
(a sandbox folder, a size or row cap, a time limit) and never the keys or the signing
secret. Tools of your own go in `app/ai/tools/custom/catalog.py`; the default registry
offers both lists.
"""

from __future__ import annotations

from app.ai.tools.builtin import (
    CalculatorTool,
    CurrentTimeTool,
    HttpFetchTool,
    ListFilesTool,
    ReadFileTool,
    SqlQueryTool,
    WriteFileTool,
)
from app.ai.tools.custom.catalog import CUSTOM_TOOLS
from app.ai.tools.registry import ToolEntry, ToolRegistry
from app.core.config import Settings


def _http_fetch(settings: Settings) -> HttpFetchTool:
    return HttpFetchTool(
        max_bytes=settings.http_fetch_max_bytes, timeout_seconds=settings.tool_timeout_seconds
    )


def _sql_query(settings: Settings) -> SqlQueryTool:
    return SqlQueryTool(
        max_rows=settings.sql_tool_max_rows,
        timeout_seconds=settings.sql_tool_timeout_seconds,
        max_result_bytes=settings.sql_tool_max_result_bytes,
        database_url=settings.sql_tool_database_url or settings.database_url,
        pool_size=settings.sql_tool_pool_size,
    )


def _sql_supported(settings: Settings) -> bool:
    """Only on databases whose read-only guard the tool knows."""
    return SqlQueryTool.supports(settings.sql_tool_database_url or settings.database_url)


BUILTIN_TOOLS: list[ToolEntry] = [
    ToolEntry(CalculatorTool),
    ToolEntry(CurrentTimeTool),
    ToolEntry(HttpFetchTool, build=_http_fetch),
    ToolEntry(ReadFileTool, build=lambda settings: ReadFileTool(settings.tools_sandbox_dir)),
    ToolEntry(WriteFileTool, build=lambda settings: WriteFileTool(settings.tools_sandbox_dir)),
    ToolEntry(ListFilesTool, build=lambda settings: ListFilesTool(settings.tools_sandbox_dir)),
    ToolEntry(SqlQueryTool, build=_sql_query, offered=_sql_supported),
]


def build_default_registry(settings: Settings) -> ToolRegistry:
    """Every built-in tool, then every custom one, that these settings offer."""
    return ToolRegistry.from_catalog([*BUILTIN_TOOLS, *CUSTOM_TOOLS], settings)
