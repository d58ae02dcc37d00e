"""Conversation schemas; the API says `metadata` where the model says `meta`."""

from __future__ import annotations

import json
import math
import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from app.models.conversation import DEFAULT_TITLE
from app.schemas.common import PartialUpdate, ReadModel, reject_nul

METADATA_MAX_BYTES = 16_384
METADATA_MAX_DEPTH = 32


def check_metadata(value: dict[str, Any]) -> dict[str, Any]:
    """Bounded, storable JSON.

    PostgreSQL's JSONB refuses NUL characters, NaN and infinities, and very deep nesting
    cannot be serialised back, so each is a 422 here rather than a 500 later.
    """
    _check_json_value(value)
    try:
        size = len(_compact_json(value).encode())
    except UnicodeEncodeError:
        raise ValueError("Metadata must be valid Unicode (no lone surrogates)") from None
    if size > METADATA_MAX_BYTES:
        raise ValueError(f"Metadata must be at most {METADATA_MAX_BYTES} bytes as JSON")
    return value


def _compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _check_json_value(value: Any, depth: int = 1) -> None:
    if depth > METADATA_MAX_DEPTH:
        raise ValueError(f"Metadata must nest at most {METADATA_MAX_DEPTH} levels deep")
    if isinstance(value, str):
        reject_nul(value)
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError("Metadata numbers must be finite")
    elif isinstance(value, dict):
        for key, item in value.items():
            reject_nul(key)
            _check_json_value(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_json_value(item, depth + 1)


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
    created_at: datetime
    updated_at: datetime
