"""What a refused spend says: which budget, which period, its limit, its use and its reset."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from app.ai.budgets.limits import Metric
from app.ai.budgets.periods import Period
from app.core.scopes import BudgetScope

ERROR_TYPE = "budget_exceeded"


@dataclass(frozen=True, slots=True)
class Exhaustion:
    """One budget that a spend would pass, as it stood when the spend was refused."""

    scope: BudgetScope
    metric: Metric
    period: Period
    limit: int | Decimal
    used: int | Decimal
    resets_at: datetime

    @property
    def message(self) -> str:
        """One sentence a person can act on."""
        unit = "tokens" if self.metric is Metric.TOKENS else "cost"
        return (
            f"The {self.scope.kind.value} budget for {unit} per {self.period.value} is spent "
            f"({self.used} used of {self.limit}); it resets at {self.resets_at.isoformat()}"
        )

    def body(self) -> dict[str, Any]:
        """The budget's facts, as an error body carries them."""
        return {
            "scope": {"kind": self.scope.kind.value, "id": str(self.scope.id)},
            "metric": self.metric.value,
            "period": self.period.value,
            "limit": str(self.limit),
            "used": str(self.used),
            "resets_at": self.resets_at.isoformat(),
        }


class BudgetExceededError(Exception):
    """A model call would pass a budget; raised before the call, so nothing was spent on it.

    The exhaustion is the only argument, so the error survives the pickling a durable
    step's recorded failure goes through.
    """

    def __init__(self, exhaustion: Exhaustion) -> None:
        super().__init__(exhaustion)
        self.exhaustion = exhaustion

    def __str__(self) -> str:
        """The exhaustion's sentence."""
        return self.exhaustion.message
