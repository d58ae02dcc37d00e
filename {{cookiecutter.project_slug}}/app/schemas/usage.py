"""The usage report: runs, tokens and cost by day, agent and model."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from pydantic import BaseModel

from app.schemas.budget import BudgetRead


class UsageRow(BaseModel):
    """One day's runs of one agent on one model."""

    day: dt.date
    agent_id: uuid.UUID
    agent_name: str
    model: str
    runs: int
    input_tokens: int
    output_tokens: int
    cost: Decimal


class UsageTotals(BaseModel):
    """The whole range's runs, tokens and cost."""

    runs: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: Decimal = Decimal("0")


class UsageReport(BaseModel):
    """The caller's usage from `start` to `end` (UTC days, both included) and their budgets."""

    start: dt.date
    end: dt.date
    items: list[UsageRow]
    totals: UsageTotals
    budgets: list[BudgetRead]
