"""Budget schemas: the limits an administrator sets, and a scope's use against them."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.core.scopes import ScopeKind

# Up to what a BIGINT column holds, well past any real budget.
MAX_TOKENS = 10**15
TokenLimit = Annotated[int | None, Field(default=None, ge=1, le=MAX_TOKENS)]
CostLimit = Annotated[Decimal | None, Field(default=None, gt=0, max_digits=14, decimal_places=6)]


class BudgetSet(BaseModel):
    """A scope's limits, all at once: a limit left out or null is not enforced."""

    model_config = ConfigDict(extra="forbid")

    daily_tokens: TokenLimit = None
    monthly_tokens: TokenLimit = None
    daily_cost: CostLimit = None
    monthly_cost: CostLimit = None
    concurrent_runs: int | None = Field(default=None, ge=1, le=10_000)


class BudgetUsage(BaseModel):
    """One metric's use in the current period, its limit there and when it resets."""

    metric: str = Field(description="`tokens` or `cost`")
    period: str = Field(description="`day` or `month` (UTC)")
    used: Decimal
    limit: Decimal | None
    resets_at: datetime


class BudgetRead(BudgetSet):
    """A scope's budget as stored (or the defaults that apply) and its use so far."""

    model_config = ConfigDict(extra="ignore")

    scope_kind: ScopeKind
    scope_id: uuid.UUID
    is_default: bool = Field(description="True when no budget is set and the defaults apply")
    usage: list[BudgetUsage]
