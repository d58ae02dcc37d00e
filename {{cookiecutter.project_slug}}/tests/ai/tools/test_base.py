"""The Tool contract: arguments model -> JSON schema, validation and timeouts."""

from __future__ import annotations

import pytest
from pydantic import Field, ValidationError

from app.ai.providers.base import ToolDefinition
from app.ai.tools.base import Tool, ToolArguments, ToolContext, ToolError


class GreetArgs(ToolArguments):
    """Documented for readers of the code; the model reads the tool's description instead."""

    name: str = Field(min_length=1, description="Who to greet.")
    times: int = Field(default=1, ge=1, le=3)


class GreetTool(Tool[GreetArgs]):
    name = "greet"
    description = "Say hello."
    arguments = GreetArgs

    async def run(self, args: GreetArgs, context: ToolContext) -> str:
        return " ".join([f"Hello, {args.name}!"] * args.times)


class PatientGreetTool(GreetTool):
    name = "patient_greet"
    timeout_seconds = 120.0


def test_definition_carries_the_arguments_json_schema() -> None:
    definition = GreetTool().definition()
    assert isinstance(definition, ToolDefinition)
    assert definition.name == "greet"
    assert definition.description == "Say hello."
    schema = definition.parameters
    assert schema["type"] == "object"
    assert schema["required"] == ["name"]
    assert schema["properties"]["name"]["description"] == "Who to greet."
    assert schema["properties"]["times"]["maximum"] == 3
    assert schema["additionalProperties"] is False
    assert "title" not in schema
    assert "description" not in schema


def test_parse_validates_and_refuses_unknown_fields() -> None:
    tool = GreetTool()
    assert tool.parse({"name": "Ada", "times": 2}) == GreetArgs(name="Ada", times=2)
    with pytest.raises(ValidationError, match="times"):
        tool.parse({"name": "Ada", "times": 9})
    with pytest.raises(ValidationError, match="Extra inputs"):
        tool.parse({"name": "Ada", "shout": True})


def test_a_tool_without_a_limit_takes_the_default() -> None:
    assert GreetTool().timeout_for(30.0) == 30.0
    assert PatientGreetTool().timeout_for(30.0) == 120.0


def test_a_limit_given_at_construction_wins() -> None:
    tool = GreetTool()
    tool.timeout_seconds = 2.5
    assert tool.timeout_for(30.0) == 2.5
    assert GreetTool().timeout_for(30.0) == 30.0


async def test_run_returns_text(tool_context: ToolContext) -> None:
    tool = GreetTool()
    assert await tool.run(tool.parse({"name": "Ada", "times": 2}), tool_context) == (
        "Hello, Ada! Hello, Ada!"
    )


def test_a_tool_without_run_cannot_be_built() -> None:
    class Incomplete(Tool[GreetArgs]):
        name = "incomplete"
        description = "Forgot run."
        arguments = GreetArgs

    with pytest.raises(TypeError):
        # The point: Python refuses at run time what mypy refuses here.
        Incomplete()  # type: ignore[abstract]


def test_tool_error_keeps_its_message_for_the_model() -> None:
    error = ToolError("Try a smaller number")
    assert error.message == "Try a smaller number"
    assert str(error) == "Try a smaller number"
