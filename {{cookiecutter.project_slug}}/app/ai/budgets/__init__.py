"""Budgets: spending limits per user or organisation, counted before every model call."""

from app.ai.budgets.exhaustion import ERROR_TYPE, BudgetExceededError, Exhaustion
from app.ai.budgets.guard import CallBudgets, CallMaximum
from app.ai.budgets.ledger import BudgetLedger, Reservation
from app.ai.budgets.limits import Metric, ScopeLimits, limits_for
from app.ai.budgets.periods import Clock, Period, utc_clock
from app.core.scopes import BudgetScope, ScopeKind, scopes_for

__all__ = [
    "ERROR_TYPE",
    "BudgetExceededError",
    "BudgetLedger",
    "BudgetScope",
    "CallBudgets",
    "CallMaximum",
    "Clock",
    "Exhaustion",
    "Metric",
    "Period",
    "Reservation",
    "ScopeKind",
    "ScopeLimits",
    "limits_for",
    "scopes_for",
    "utc_clock",
]
