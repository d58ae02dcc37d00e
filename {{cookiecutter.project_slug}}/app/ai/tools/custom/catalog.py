"""Your own tools, one `ToolEntry` each; the default registry offers them after the built-ins."""

from __future__ import annotations

from app.ai.tools.registry import ToolEntry

CUSTOM_TOOLS: list[ToolEntry] = [
    # One `ToolEntry(YourTool)` per tool of yours; AGENTS.md ("Add a tool") shows one.
]
