"""Agent schemas: what a client may set, and what it reads back."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from app.schemas.common import PartialUpdate, ReadModel, reject_nul

Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(reject_nul),
]
ProviderName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=50),
    AfterValidator(reject_nul),
]
ModelName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(reject_nul),
]
ToolName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(reject_nul),
]
Description = Annotated[str, StringConstraints(max_length=2_000), AfterValidator(reject_nul)]
SystemPrompt = Annotated[str, StringConstraints(max_length=100_000), AfterValidator(reject_nul)]
Temperature = Annotated[float, Field(ge=0.0, le=2.0)]
MaxTokens = Annotated[int, Field(ge=1, le=200_000)]
ToolNames = Annotated[list[ToolName], Field(max_length=64)]
Guardrails = Annotated[
    list[dict[str, Any]],
    Field(
        max_length=20,
        description=(
            "Checks on the input, tool results and output, run in order; each has a `type` "
            "(max_length, blocked_terms, pii, prompt_injection, moderation or one you added) "
            "and that check's options. See the README's Guardrails section."
        ),
    ),
]
KnowledgeBaseIds = Annotated[
    list[uuid.UUID],
    Field(max_length=20, description="Your knowledge bases its `search_knowledge` tool searches"),
]


def unique_ids(ids: list[uuid.UUID] | None) -> list[uuid.UUID] | None:
    """A base linked twice is a mistake in the request; say so rather than guess."""
    if ids is not None and len(set(ids)) != len(ids):
        raise ValueError("Knowledge base ids must be unique")
    return ids


def unique_tools(tools: list[str] | None) -> list[str] | None:
    """A tool offered twice would be advertised twice to the model; refuse the duplicate."""
    if tools is not None and len(set(tools)) != len(tools):
        raise ValueError("Tool names must be unique")
    return tools


class AgentConfig(BaseModel):
    """The settings a run depends on, as they will be after a create or an update.

    Checks that need the live provider and tool registries receive this, so one check
    covers both paths, and a partial update is judged by its result.
    """

    model_config = ConfigDict(frozen=True)

    provider: str
    model: str
    temperature: float
    max_tokens: int
    tools: tuple[str, ...]


class AgentCreate(BaseModel):
    """A new agent: everything a run needs, with defaults for the sampling settings.

    Without `provider` the agent gets DEFAULT_PROVIDER; without `model`, the default
    model its provider's settings name; `with_defaults` fills both in.
    """

    name: Name
    description: Description | None = None
    system_prompt: SystemPrompt = ""
    provider: ProviderName | None = Field(default=None, description="DEFAULT_PROVIDER if left out")
    model: ModelName | None = Field(
        default=None, description="The provider's default model if left out"
    )
    temperature: Temperature = 0.7
    max_tokens: MaxTokens = 1024
    tools: ToolNames = Field(default_factory=list)
    guardrails: Guardrails = Field(default_factory=list)
    knowledge_base_ids: KnowledgeBaseIds = Field(default_factory=list)
    is_active: bool = True

    _unique_tools = field_validator("tools")(unique_tools)
    _unique_ids = field_validator("knowledge_base_ids")(unique_ids)

    def with_defaults(self, *, provider: str, model: Callable[[str], str]) -> AgentCreate:
        """This request with the provider and model it left out filled in.

        `model` maps the resolved provider to its default model.
        """
        chosen = self.provider or provider
        return self.model_copy(update={"provider": chosen, "model": self.model or model(chosen)})


class AgentUpdate(PartialUpdate):
    """A partial update: only the fields sent change; only `description` may be null."""

    nullable = frozenset({"description"})

    name: Name | None = None
    description: Description | None = None
    system_prompt: SystemPrompt | None = None
    provider: ProviderName | None = None
    model: ModelName | None = None
    temperature: Temperature | None = None
    max_tokens: MaxTokens | None = None
    tools: ToolNames | None = None
    guardrails: Guardrails | None = None
    knowledge_base_ids: KnowledgeBaseIds | None = None
    is_active: bool | None = None

    _unique_tools = field_validator("tools")(unique_tools)
    _unique_ids = field_validator("knowledge_base_ids")(unique_ids)


class AgentRead(ReadModel):
    """An agent as its owner sees it, with the version that tracks behaviour changes."""

    id: uuid.UUID
    name: str
    description: str | None
    system_prompt: str
    provider: str
    model: str
    temperature: float
    max_tokens: int
    tools: list[str]
    guardrails: list[dict[str, Any]]
    knowledge_base_ids: list[uuid.UUID]
    is_active: bool
    version: int = Field(description="Incremented whenever a setting that changes behaviour does")
    created_at: datetime
    updated_at: datetime


class AgentVersionRead(ReadModel):
    """One recorded version: the behaviour settings the agent had under that number."""

    version: int
    settings: dict[str, Any] = Field(
        description="system_prompt, provider, model, temperature, max_tokens, tools and guardrails"
    )
    rolled_back_from: int | None = Field(
        description="The version this one restored, when it was made by a rollback"
    )
    created_at: datetime


class AgentRollback(BaseModel):
    """Which earlier version to make current again."""

    version: int = Field(ge=1, description="An existing version number of this agent")
