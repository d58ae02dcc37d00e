"""The registry: unique names, lookups that 404, and building from catalog entries."""

from __future__ import annotations

import pytest

from app.ai.tools.base import Tool, ToolArguments, ToolContext
from app.ai.tools.registry import DuplicateToolError, ToolEntry, ToolRegistry, UnknownToolError
from app.core.config import Settings
from app.core.errors import AppError


class NoArgs(ToolArguments):
    pass


def make_tool(tool_name: str) -> Tool[NoArgs]:
    class Named(Tool[NoArgs]):
        name = tool_name
        description = f"The {tool_name} tool."
        arguments = NoArgs

        async def run(self, args: NoArgs, context: ToolContext) -> str:
            return tool_name

    return Named()


def test_registers_and_looks_up_by_name() -> None:
    alpha, beta = make_tool("alpha"), make_tool("beta")
    registry = ToolRegistry([alpha, beta])
    assert registry.get("alpha") is alpha
    assert registry.names() == ["alpha", "beta"]
    assert "beta" in registry
    assert "gamma" not in registry
    assert len(registry) == 2
    assert list(registry) == [alpha, beta]


def test_refuses_a_duplicate_name() -> None:
    registry = ToolRegistry([make_tool("alpha")])
    with pytest.raises(DuplicateToolError, match="alpha"):
        registry.register(make_tool("alpha"))
    assert len(registry) == 1


@pytest.mark.parametrize("bad_name", ["", "has space", "dots.not.allowed", "x" * 65, "naïve"])
def test_refuses_names_providers_would_reject(bad_name: str) -> None:
    with pytest.raises(ValueError, match="Invalid tool name"):
        ToolRegistry([make_tool(bad_name)])


def test_unknown_name_is_a_404_app_error() -> None:
    registry = ToolRegistry()
    with pytest.raises(UnknownToolError) as caught:
        registry.get("nope")
    assert isinstance(caught.value, AppError)
    assert caught.value.status_code == 404
    assert caught.value.detail == "Tool 'nope' not found"


def test_definitions_for_all_or_the_named_tools_in_order() -> None:
    registry = ToolRegistry([make_tool("alpha"), make_tool("beta"), make_tool("gamma")])
    assert [d.name for d in registry.definitions()] == ["alpha", "beta", "gamma"]
    assert [d.name for d in registry.definitions(["gamma", "alpha"])] == ["gamma", "alpha"]
    assert registry.definitions([]) == []
    with pytest.raises(UnknownToolError):
        registry.definitions(["alpha", "missing"])


class Configured(Tool[NoArgs]):
    name = "configured"
    description = "Knows its folder."
    arguments = NoArgs

    def __init__(self, folder: str) -> None:
        self.folder = folder

    async def run(self, args: NoArgs, context: ToolContext) -> str:
        return self.folder


def test_entries_build_tools_from_settings_in_catalog_order(settings: Settings) -> None:
    plain = make_tool("plain")
    entries = [
        ToolEntry(type(plain)),
        ToolEntry(Configured, build=lambda given: Configured(str(given.tools_sandbox_dir))),
        ToolEntry(Configured, offered=lambda _settings: False),
    ]
    registry = ToolRegistry.from_catalog(entries, settings)
    assert registry.names() == ["plain", "configured"]
    configured = registry.get("configured")
    assert isinstance(configured, Configured)
    assert configured.folder == str(settings.tools_sandbox_dir)


def test_an_entry_that_builds_another_class_is_refused(settings: Settings) -> None:
    entry = ToolEntry(Configured, build=lambda _settings: make_tool("impostor"))
    with pytest.raises(TypeError, match="Configured"):
        entry.create(settings)
