"""Tool listing and direct execution."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field

from app.schemas.common import check_json_object

TOOL_ARGUMENTS_MAX_BYTES = 256_000


def check_arguments(value: dict[str, Any]) -> dict[str, Any]:
    """Arguments a tool can be handed: bounded in size and depth, and storable."""
    return check_json_object(value, label="Arguments", max_bytes=TOOL_ARGUMENTS_MAX_BYTES)


Arguments = Annotated[dict[str, Any], AfterValidator(check_arguments)]


class ToolRead(BaseModel):
    """A registered tool as a model sees it: name, purpose and JSON-schema parameters."""

    name: str
    description: str
    parameters: dict[str, Any]
    timeout_seconds: float


class ToolExecuteRequest(BaseModel):
    """One direct call of a tool."""

    arguments: Arguments = Field(
        default_factory=dict, description="The tool's arguments, matching its parameters schema"
    )


class ToolExecuteResult(BaseModel):
    """What the tool returned; `is_error` is true when it refused or failed."""

    name: str
    content: str
    is_error: bool
    duration_ms: float
