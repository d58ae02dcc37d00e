"""Conversation schemas; the API says `metadata` where the model says `meta`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from app.models.conversation import DEFAULT_TITLE
from app.schemas.common import PartialUpdate, ReadModel, check_json_object, reject_nul

METADATA_MAX_BYTES = 16_384
METADATA_MAX_DEPTH = 32


def check_metadata(value: dict[str, Any]) -> dict[str, Any]:
    """Bounded, storable JSON, so a bad object is a 422 rather than a 500 later."""
    return check_json_object(
        value, label="Metadata", max_bytes=METADATA_MAX_BYTES, max_depth=METADATA_MAX_DEPTH
    )


Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(reject_nul),
]
Metadata = Annotated[dict[str, Any], AfterValidator(check_metadata)]


class ConversationCreate(BaseModel):
    """A new thread with one of your agents; the title defaults until you name it."""

    agent_id: uuid.UUID = Field(description="An agent of yours that this conversation talks to")
    title: Title = DEFAULT_TITLE
    meta: Metadata = Field(default_factory=dict, alias="metadata")


class ConversationUpdate(PartialUpdate):
    """A partial update; `metadata`, when sent, replaces the whole object."""

    title: Title | None = None
    meta: Metadata | None = Field(default=None, alias="metadata")


class ConversationRead(ReadModel):
    """A conversation as its owner sees it; `metadata` is yours to use."""

    id: uuid.UUID
    agent_id: uuid.UUID
    title: str
    meta: dict[str, Any] = Field(serialization_alias="metadata")
    summary: str | None = Field(
        default=None, description="What the agent was told of turns too old to resend"
    )
    summary_through: int | None = Field(
        default=None, description="Sequence number of the last message the summary covers"
    )
    created_at: datetime
    updated_at: datetime
