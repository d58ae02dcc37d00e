"""Tools by name: a dict that refuses duplicates, filled from catalog entries.

Which tools exist is the catalogs' business (`catalog.py` for the built-ins,
`custom/catalog.py` for yours); this module never changes when a tool is added.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from app.ai.providers.base import ToolDefinition
from app.ai.tools.base import Tool, ToolContext, ToolError
from app.core.config import Settings
from app.core.errors import NotFoundError

# What OpenAI, Anthropic and Gemini all accept as a function name.
TOOL_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class UnknownToolError(NotFoundError):
    """A tool name that is not registered; a 404 when it reaches the API."""

    def __init__(self, name: str) -> None:
        super().__init__(f"Tool {name!r} not found")
        self.name = name


class ToolSource(Protocol):
    """Tools that exist per user rather than per process, such as a user's MCP servers' tools.

    Such a tool has one name in an agent's `tools` and, where that name has characters
    vendors refuse, another that the model sees and calls.
    """

    def accepts(self, name: str) -> bool:
        """Whether an agent's tool name belongs to this source."""
        ...

    def agent_name(self, model_name: str) -> str | None:
        """The agent's name for a name the model called, or None when it is not this source's."""
        ...

    async def resolve(self, name: str, context: ToolContext) -> Tool[Any]:
        """The caller's tool; `ToolError` with the reason when it cannot be used."""
        ...

    async def definition(self, name: str, context: ToolContext) -> ToolDefinition:
        """The tool as offered to a model, for the caller."""
        ...

    async def aclose(self) -> None:
        """Release what the source holds, at shutdown."""
        ...


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
        self._sources: list[ToolSource] = []
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

    def add_source(self, source: ToolSource) -> None:
        """Offer a source's per-user tools beside the registered ones."""
        self._sources.append(source)

    def offers(self, name: str) -> bool:
        """Whether an agent may list `name`: a registered tool, or a name a source accepts."""
        return name in self._tools or any(source.accepts(name) for source in self._sources)

    def agent_name(self, called: str) -> str:
        """The agent's name for a tool the model called (the same name unless a source maps it)."""
        if called in self._tools:
            return called
        for source in self._sources:
            mapped = source.agent_name(called)
            if mapped is not None:
                return mapped
        return called

    async def resolve(self, name: str, context: ToolContext) -> Tool[Any]:
        """The tool an agent's `name` means for this caller; `ToolError` when there is none."""
        if name in self._tools:
            return self._tools[name]
        for source in self._sources:
            if source.accepts(name):
                return await source.resolve(name, context)
        raise ToolError(f"Tool {name!r} does not exist")

    async def definitions_for(
        self, names: Iterable[str], context: ToolContext
    ) -> list[ToolDefinition]:
        """Definitions for an agent's tools as this caller has them, in the agent's order."""
        definitions = []
        for name in names:
            source = next((s for s in self._sources if s.accepts(name)), None)
            if name in self._tools or source is None:
                definitions.append(self.get(name).definition())
            else:
                definitions.append(await source.definition(name, context))
        return definitions

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
        for source in self._sources:
            await source.aclose()

    def __contains__(self, name: object) -> bool:
        """Whether a tool of that name is registered, so callers can check before `get`."""
        return name in self._tools

    def __iter__(self) -> Iterator[Tool[Any]]:
        """The tools in registration order, as the API lists them."""
        return iter(self._tools.values())

    def __len__(self) -> int:
        """How many tools are offered."""
        return len(self._tools)
