"""The tool contract: a typed arguments model in, text for the model out.

A tool declares its arguments as a pydantic model, so the JSON schema offered to the
model and the validation applied to what the model sends back are the same thing.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from app.ai.providers.base import ToolDefinition
from app.core.config import Settings
from app.db.session import Database


class ToolArguments(BaseModel):
    """Base for argument models: unknown fields are refused, so a model's typo is reported."""

    model_config = ConfigDict(extra="forbid")


ArgsT = TypeVar("ArgsT", bound=BaseModel)


class ToolError(Exception):
    """An expected failure whose message is written for the model to read and act on."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class ToolContext:
    """Who a call runs for and what it may reach; tools get nothing else from the service."""

    settings: Settings
    database: Database
    user_id: uuid.UUID


class Tool(ABC, Generic[ArgsT]):
    """Base class for tools a model can call.

    Subclasses set the class attributes and implement `run`:

    - `name`: unique in a registry; letters, digits, `_` and `-` (what providers accept).
    - `description`: what the tool does and when to use it, written for the model.
    - `arguments`: the pydantic model whose JSON schema is the tool's parameters
      (subclass `ToolArguments` to refuse unknown fields).
    - `timeout_seconds`: a per-tool limit; `None` uses `Settings.tool_timeout_seconds`.

    Tools run with least privilege: everything they may touch comes from the
    `ToolContext`, and any limit they enforce must hold whatever arguments arrive.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    arguments: type[ArgsT]
    timeout_seconds: ClassVar[float | None] = None

    def parse(self, raw: Mapping[str, Any]) -> ArgsT:
        """Validate a model's raw JSON arguments.

        Args:
            raw: the arguments exactly as the model sent them.

        Raises:
            pydantic.ValidationError: the arguments do not match `arguments`.
        """
        return self.arguments.model_validate(dict(raw))

    def timeout_for(self, settings: Settings) -> float:
        """The limit a call of this tool runs under.

        Args:
            settings: supplies the default when the tool sets no limit of its own.
        """
        if self.timeout_seconds is not None:
            return self.timeout_seconds
        return settings.tool_timeout_seconds

    def definition(self) -> ToolDefinition:
        """The tool as offered to a model: name, description and JSON-schema parameters."""
        parameters = self.arguments.model_json_schema()
        parameters.pop("title", None)
        return ToolDefinition(name=self.name, description=self.description, parameters=parameters)

    @abstractmethod
    async def run(self, args: ArgsT, context: ToolContext) -> str:
        """Do the work and return text for the model (JSON text where structure helps).

        Args:
            args: validated arguments.
            context: the settings, database and user this call runs for.

        Raises:
            ToolError: an expected failure; its message goes back to the model.
            Exception: anything else is reported to the model as an internal failure
                and logged, without its message.
        """
