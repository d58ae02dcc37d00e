"""Agent template schemas: the file format of a template, and what the catalog lists."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.schemas.agent import (
    Description,
    Guardrails,
    MaxTokens,
    ModelName,
    ProviderName,
    SystemPrompt,
    Temperature,
    ToolNames,
    unique_tools,
)


class AgentTemplateFile(BaseModel):
    """One template file's contents; an unknown key is an error, so a typo is not ignored.

    Without `provider` or `model`, an agent made from it gets the configured defaults.
    """

    model_config = ConfigDict(extra="forbid")

    description: Description
    system_prompt: SystemPrompt = ""
    provider: ProviderName | None = None
    model: ModelName | None = None
    temperature: Temperature = 0.7
    max_tokens: MaxTokens = 1024
    tools: ToolNames = Field(default_factory=list)
    guardrails: Guardrails = Field(default_factory=list)

    _unique_tools = field_validator("tools")(unique_tools)


class AgentTemplateRead(AgentTemplateFile):
    """A template as listed: its file's contents under the file's name."""

    name: str = Field(description="The file name without its extension")
