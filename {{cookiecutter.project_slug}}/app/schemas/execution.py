"""Execution schemas: one run's outcome, usage and cost, read-only through the API."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import Field, PlainSerializer

from app.models import ExecutionStatus
from app.schemas.common import ReadModel

COST_QUANTUM = Decimal("0.000001")

# A string keeps every digit a float would lose; six places match the column on every database.
Cost = Annotated[
    Decimal,
    PlainSerializer(lambda value: str(value.quantize(COST_QUANTUM)), return_type=str),
]


class ExecutionRead(ReadModel):
    """A run as the API shows it: outcome, usage and timing, never its internal state."""

    id: uuid.UUID
    agent_id: uuid.UUID
    conversation_id: uuid.UUID
    agent_version: int | None = Field(
        description="The agent version the run used; null for runs from before versions"
    )
    status: ExecutionStatus
    input: str
    output: str | None
    error_type: str | None
    error_message: str | None
    input_tokens: int
    output_tokens: int
    cost: Cost = Field(description="Estimated price of the run, as a decimal string")
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: float | None
    created_at: datetime
