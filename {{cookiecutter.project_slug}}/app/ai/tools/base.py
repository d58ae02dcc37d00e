"""The tool contract: a typed arguments model in, text for the model out.

A tool declares its arguments as a pydantic model, so the JSON schema offered to the
model and the validation applied to what the model sends back are the same thing.
"""

from __future__ import annotations

import copy
import functools
import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from app.ai.providers.base import ToolDefinition
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
    """Who one call runs for and what it may reach; never the settings, keys or signing secret.

    A tool's own configuration (a sandbox folder, size and row caps, its time limit) is
    given to it once, when the catalog builds it from settings.
    """

    user_id: uuid.UUID
    database: Database
    # The agent whose run made the call; None for a call made directly through the API.
    agent_id: uuid.UUID | None = None
    # The organisation the call acts in: the run's, or the caller's active one.
    organization_id: uuid.UUID | None = None


class Tool(ABC, Generic[ArgsT]):
    """Base class for tools a model can call.

    Subclasses set the class attributes and implement `run`:

    - `name`: unique in a registry; letters, digits, `_` and `-` (what providers accept).
    - `description`: what the tool does and when to use it, written for the model.
    - `arguments`: the pydantic model whose JSON schema is the tool's parameters
      (subclass `ToolArguments` to refuse unknown fields).
    - `timeout_seconds`: a per-tool limit, on the class or set by `__init__`; `None`
      uses the service default (`TOOL_TIMEOUT_SECONDS`).
    - `repeatable`: whether running the same call twice is harmless. A run resumed after
      a crash repeats a call that was cut short; for a tool that says False (it sends,
      pays, or appends), the run fails with a clear reason instead.

    Tools run with least privilege: their configuration arrives through `__init__`
    (the catalog builds each tool from settings), the caller's identity and database
    through the `ToolContext`, and any limit they enforce must hold whatever arguments
    arrive.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    arguments: type[ArgsT]
    timeout_seconds: float | None = None
    repeatable: ClassVar[bool] = True

    def parse(self, raw: Mapping[str, Any]) -> ArgsT:
        """Validate a model's raw JSON arguments.

        Args:
            raw: the arguments exactly as the model sent them.

        Raises:
            pydantic.ValidationError: the arguments do not match `arguments`.
        """
        return self.arguments.model_validate(dict(raw))

    def timeout_for(self, default_seconds: float) -> float:
        """The limit a call of this tool runs under.

        Args:
            default_seconds: the service default, used when the tool sets no limit.
        """
        return default_seconds if self.timeout_seconds is None else self.timeout_seconds

    async def aclose(self) -> None:
        """Release what the tool holds (a pool, a client) at shutdown; most hold nothing."""

    def definition(self) -> ToolDefinition:
        """The tool as offered to a model: name, description and JSON-schema parameters.

        The arguments model's title and docstring stay out: `description` speaks to the model.
        """
        parameters = copy.deepcopy(_parameters_schema(self.arguments))
        return ToolDefinition(name=self.name, description=self.description, parameters=parameters)

    @abstractmethod
    async def run(self, args: ArgsT, context: ToolContext) -> str:
        """Do the work and return text for the model (JSON text where structure helps).

        Args:
            args: validated arguments.
            context: the user this call runs for, and the database.

        Raises:
            ToolError: an expected failure; its message goes back to the model.
            Exception: anything else is reported to the model as an internal failure
                and logged, without its message.
        """


@functools.cache
def _parameters_schema(arguments: type[BaseModel]) -> dict[str, Any]:
    """An arguments model's JSON schema, built once: every turn offers the tools again."""
    schema = arguments.model_json_schema()
    schema.pop("title", None)
    schema.pop("description", None)
    return schema
