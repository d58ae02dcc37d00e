"""Requests that start an agent run."""

from __future__ import annotations

import uuid
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

_EXAMPLE_CONVERSATION = "3f2b8c1e-6d4a-4b9e-8f7a-2c5d1e0b9a64"


class ExecuteRequest(BaseModel):
    """A message to an agent, and how to answer: waited for, streamed or in the background."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"message": "What is 6 * 7?"},
                {
                    "message": "Tell me more",
                    "conversation_id": _EXAMPLE_CONVERSATION,
                    "stream": True,
                },
                {"message": "Summarise this week's tickets", "background": True},
            ]
        }
    )

    message: str = Field(min_length=1, max_length=100_000)
    conversation_id: uuid.UUID | None = Field(
        default=None, description="Continue this conversation; a new one is started when empty"
    )
    stream: bool = Field(
        default=False, description="Answer with Server-Sent Events instead of one JSON body"
    )
    background: bool = Field(
        default=False,
        description=(
            "Answer 202 at once with the execution as it starts; the run goes on. Follow it "
            "with GET /executions/{id}/events or poll GET /executions/{id} (the Location header)"
        ),
    )

    @model_validator(mode="after")
    def _one_way_to_answer(self) -> Self:
        """A stream and an answer that does not wait contradict each other."""
        if self.stream and self.background:
            raise ValueError(
                "stream and background exclude each other: stream the run, or start it "
                "in the background and follow GET /executions/{id}/events"
            )
        return self
