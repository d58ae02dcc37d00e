"""Tool listing and direct execution."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ToolRead(BaseModel):
    """A registered tool as a model sees it: name, purpose and JSON-schema parameters."""

    name: str
    description: str
    parameters: dict[str, Any]
    timeout_seconds: float


class ToolExecuteRequest(BaseModel):
    arguments: dict[str, Any] = Field(
        default_factory=dict, description="The tool's arguments, matching its parameters schema"
    )


class ToolExecuteResult(BaseModel):
    """What the tool returned; `is_error` is true when it refused or failed."""

    name: str
    content: str
    is_error: bool
    duration_ms: float
