"""OpenAI's model objects, listing the caller's agents as the models a client may pick."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field


class ModelCard(BaseModel):
    """One agent as an OpenAI model: `id` is its name, what `model` takes in a completion."""

    id: str = Field(description="The agent's name; its UUID works as `model` too")
    object: Literal["model"] = "model"
    created: int = Field(description="When the agent was created, in Unix seconds")
    owned_by: str = Field(description="The provider the agent's model runs on")
    agent_id: uuid.UUID
    description: str | None = None


class ModelList(BaseModel):
    """Every active agent of the caller, as `GET /v1/models` returns them."""

    object: Literal["list"] = "list"
    data: list[ModelCard]
