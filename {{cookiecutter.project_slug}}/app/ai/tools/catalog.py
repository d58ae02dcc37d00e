"""The built-in tools, one entry each, with how each is built from settings.

This is the only place a tool meets `Settings`: each gets just its own configuration
(a sandbox folder, a size or row cap, a time limit) and never the keys or the signing
secret. Tools of your own go in `app/ai/tools/custom/catalog.py`; the default registry
offers both lists.
"""

from __future__ import annotations

from typing import Any

from app.ai.knowledge.embedders.source import EmbedderSource
from app.ai.memory.store import MemoryPolicy
from app.ai.tools.base import Tool
from app.ai.tools.builtin import (
    CalculatorTool,
    CurrentTimeTool,
    HttpFetchTool,
    ListFilesTool,
    ReadFileTool,
    SqlQueryTool,
    WriteFileTool,
)
from app.ai.tools.builtin.knowledge import SearchKnowledgeTool
from app.ai.tools.builtin.memory import RecallTool, RememberTool
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


def memory_policy(settings: Settings) -> MemoryPolicy:
    """How memories are deduplicated, aged and capped, from the MEMORY_* settings."""
    return MemoryPolicy(
        duplicate_similarity=settings.memory_duplicate_similarity,
        half_life_days=settings.memory_recency_half_life_days,
        max_per_agent=settings.memory_max_per_agent,
    )


def knowledge_tools(settings: Settings, embedders: EmbedderSource) -> list[Tool[Any]]:
    """The tools that search an agent's knowledge bases and keep its memories.

    They share the application's embedder, so they are built beside the catalog's.
    """
    return [
        SearchKnowledgeTool(embedders, candidates=settings.knowledge_search_candidates),
        RememberTool(embedders, memory_policy(settings)),
        RecallTool(embedders, memory_policy(settings)),
    ]


def build_default_registry(
    settings: Settings, *, embedders: EmbedderSource | None = None
) -> ToolRegistry:
    """Every built-in tool, then every custom one, that these settings offer.

    With `embedders`, the knowledge and memory tools too.
    """
    registry = ToolRegistry.from_catalog([*BUILTIN_TOOLS, *CUSTOM_TOOLS], settings)
    for tool in knowledge_tools(settings, embedders) if embedders is not None else []:
        registry.register(tool)
    return registry
