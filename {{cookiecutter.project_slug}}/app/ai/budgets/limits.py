"""The limits a scope runs under: its stored budget, or the configured defaults."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from app.ai.budgets.periods import Period
from app.core.config import Settings
from app.core.scopes import BudgetScope, ScopeKind
from app.crud import budget as budget_crud
from app.models import Budget


class Metric(StrEnum):
    """What a budget counts."""

    TOKENS = "tokens"
    COST = "cost"


@dataclass(frozen=True, slots=True)
class ScopeLimits:
    """One scope's limits per metric and period (None: not enforced) and on runs at once."""

    scope: BudgetScope
    tokens: dict[Period, int | None]
    cost: dict[Period, Decimal | None]
    concurrent_runs: int | None = None

    def limit(self, metric: Metric, period: Period) -> int | Decimal | None:
        """The limit on `metric` per `period`."""
        return self.tokens[period] if metric is Metric.TOKENS else self.cost[period]

    @classmethod
    def of(cls, scope: BudgetScope, budget: Budget) -> ScopeLimits:
        """The limits a stored budget sets."""
        return cls(
            scope,
            tokens={Period.DAY: budget.daily_tokens, Period.MONTH: budget.monthly_tokens},
            cost={Period.DAY: budget.daily_cost, Period.MONTH: budget.monthly_cost},
            concurrent_runs=budget.concurrent_runs,
        )

    @classmethod
    def defaults(cls, scope: BudgetScope, settings: Settings) -> ScopeLimits:
        """The configured defaults: users have some; other scopes none until a budget is set."""
        if scope.kind is not ScopeKind.USER:
            return cls(scope, tokens=dict.fromkeys(Period), cost=dict.fromkeys(Period))
        return cls(
            scope,
            tokens={
                Period.DAY: settings.user_daily_token_budget,
                Period.MONTH: settings.user_monthly_token_budget,
            },
            cost={
                Period.DAY: settings.user_daily_cost_budget,
                Period.MONTH: settings.user_monthly_cost_budget,
            },
        )


async def limits_for(
    session: AsyncSession, scopes: Sequence[BudgetScope], settings: Settings
) -> list[ScopeLimits]:
    """Each scope's limits, in order: its budget where one is stored, else the defaults."""
    stored = await budget_crud.get_many(session, scopes=scopes)
    return [
        ScopeLimits.of(scope, stored[scope])
        if scope in stored
        else ScopeLimits.defaults(scope, settings)
        for scope in scopes
    ]
