"""Audit log schemas: entries as stored, and the outcome of checking the chains."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from app.schemas.common import ReadModel


class AuditEntryRead(ReadModel):
    """One entry with its place in its chain and the hashes that prove it."""

    id: uuid.UUID
    organization_id: uuid.UUID | None
    sequence: int = Field(description="Position in the organisation's chain, from 1")
    actor_id: uuid.UUID | None = Field(description="Who acted; null for an anonymous caller")
    action: str = Field(description="What happened, e.g. `auth.login_failed`")
    target_type: str | None
    target_id: str | None
    request_id: str | None
    client_address: str | None
    created_at: datetime
    details: dict[str, Any]
    previous_hash: str
    entry_hash: str


class ChainBreakRead(BaseModel):
    """The first link that does not hold."""

    organization_id: uuid.UUID | None = Field(description="The chain; null for no organisation")
    sequence: int
    entry_id: uuid.UUID | None
    problem: str = Field(description="What differs from what the chain proves")


class AuditVerificationRead(BaseModel):
    """Whether every chain holds, how much was checked, and where the first break is."""

    ok: bool
    chains: int
    entries: int
    first_break: ChainBreakRead | None
