"""Tools by name: a dict that refuses duplicates, filled from catalog entries.

Which tools exist is the catalogs' business (`catalog.py` for the built-ins,
`custom/catalog.py` for yours); this module never changes when a tool is added.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from app.ai.providers.base import ToolDefinition
from app.ai.tools.base import Tool
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


def _always(_settings: Settings) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class ToolEntry:
    """One catalog line: a tool class, how settings configure it, and when it is offered.

    `build` gets the settings and returns the configured tool; without one the class is
    built with no arguments. `offered` leaves a tool out where it cannot work safely.
    """

    tool: type[Tool[Any]]
    build: Callable[[Settings], Tool[Any]] | None = None
    offered: Callable[[Settings], bool] = _always

    def create(self, settings: Settings) -> Tool[Any]:
        """The tool as configured by these settings, checked to be the class it names."""
        tool = self.tool() if self.build is None else self.build(settings)
        if not isinstance(tool, self.tool):
            raise TypeError(f"The entry for {self.tool.__name__} built a {type(tool).__name__}")
        return tool


class ToolRegistry:
    """The tools a process offers, looked up by name."""

    def __init__(self, tools: Iterable[Tool[Any]] = ()) -> None:
        self._tools: dict[str, Tool[Any]] = {}
        for tool in tools:
            self.register(tool)

    @classmethod
    def from_catalog(cls, entries: Iterable[ToolEntry], settings: Settings) -> ToolRegistry:
        """Every entry these settings offer, built and registered in catalog order."""
        return cls(entry.create(settings) for entry in entries if entry.offered(settings))

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

    async def aclose(self) -> None:
        """Let every tool release what it holds, at shutdown."""
        for tool in self._tools.values():
            await tool.aclose()

    def __contains__(self, name: object) -> bool:
        """Whether a tool of that name is registered, so callers can check before `get`."""
        return name in self._tools

    def __iter__(self) -> Iterator[Tool[Any]]:
        """The tools in registration order, as the API lists them."""
        return iter(self._tools.values())

    def __len__(self) -> int:
        """How many tools are offered."""
        return len(self._tools)
