"""The registry: unique names, lookups that 404, and the default built-ins."""

from __future__ import annotations

import pytest

from app.ai.tools.base import Tool, ToolArguments, ToolContext
from app.ai.tools.registry import (
    DuplicateToolError,
    ToolRegistry,
    UnknownToolError,
    build_default_registry,
)
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


def test_default_registry_has_every_builtin(settings: Settings) -> None:
    registry = build_default_registry(settings)
    assert registry.names() == [
        "calculator",
        "current_time",
        "http_fetch",
        "read_file",
        "write_file",
        "list_files",
        "sql_query",
    ]
    for definition in registry.definitions():
        assert definition.description
        assert definition.parameters["type"] == "object"


def test_default_registry_leaves_sql_out_on_an_unknown_database(settings: Settings) -> None:
    other = settings.model_copy(update={"database_url": "mysql+aiomysql://u@db/app"})
    assert "sql_query" not in build_default_registry(other)
