"""Tools by name: a dict that refuses duplicates, and the default set of built-ins."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from app.ai.providers.base import ToolDefinition
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
from app.core.config import Settings
from app.core.errors import NotFoundError

# What OpenAI, Anthropic and Gemini all accept as a function name.
TOOL_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class UnknownToolError(NotFoundError):
    """A tool name that is not registered; a 404 when it reaches the API."""

    def __init__(self, name: str) -> None:
        super().__init__(f"Tool {name!r} not found")
        self.name = name


class DuplicateToolError(ValueError):
    """Two tools under one name would make a model's call ambiguous."""


class ToolRegistry:
    """The tools a process offers, looked up by name."""

    def __init__(self, tools: Iterable[Tool[Any]] = ()) -> None:
        self._tools: dict[str, Tool[Any]] = {}
        for tool in tools:
            self.register(tool)

    def register(self, tool: Tool[Any]) -> None:
        """Add a tool; its name must be valid for every provider and not taken."""
        if not TOOL_NAME_PATTERN.fullmatch(tool.name):
            raise ValueError(f"Invalid tool name {tool.name!r}: use 1-64 of A-Z a-z 0-9 _ -")
        if tool.name in self._tools:
            raise DuplicateToolError(f"A tool named {tool.name!r} is already registered")
        self._tools[tool.name] = tool

    def get(self, name: str) -> Tool[Any]:
        """The tool called `name`, or `UnknownToolError`."""
        try:
            return self._tools[name]
        except KeyError:
            raise UnknownToolError(name) from None

    def names(self) -> list[str]:
        """Registered names, in registration order."""
        return list(self._tools)

    def definitions(self, names: Iterable[str] | None = None) -> list[ToolDefinition]:
        """Definitions for the named tools (every tool when `names` is None), in that order."""
        selected = self._tools if names is None else names
        return [self.get(name).definition() for name in selected]

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Iterator[Tool[Any]]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)


def build_default_registry(settings: Settings) -> ToolRegistry:
    """Every built-in tool; `sql_query` only on databases whose read-only guard it knows."""
    registry = ToolRegistry(
        [
            CalculatorTool(),
            CurrentTimeTool(),
            HttpFetchTool(),
            ReadFileTool(),
            WriteFileTool(),
            ListFilesTool(),
        ]
    )
    if SqlQueryTool.supports(settings.database_url):
        registry.register(SqlQueryTool())
    return registry
