"""Requests that start an agent run."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field


class ExecuteRequest(BaseModel):
    """A user's message to an agent, optionally continuing a conversation or streamed."""

    message: str = Field(min_length=1, max_length=100_000)
    conversation_id: uuid.UUID | None = Field(
        default=None, description="Continue this conversation; a new one is started when empty"
    )
    stream: bool = Field(
        default=False, description="Answer with Server-Sent Events instead of one JSON body"
    )
