"""The usage ledger: reservations that refuse overspend, settling, and periods that roll over.

On the application's store, whichever backend its settings chose, so every backend is held
to the same behaviour.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from fastapi import FastAPI

from app.ai.budgets import BudgetExceededError, BudgetLedger, Metric, Period, ScopeLimits
from app.core.scopes import BudgetScope, ScopeKind
from app.core.store import KeyValueStore


class MovableClock:
    """A clock a test sets, so periods roll over without waiting."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _limits(
    *,
    daily_tokens: int | None = None,
    monthly_tokens: int | None = None,
    daily_cost: str | None = None,
) -> ScopeLimits:
    return ScopeLimits(
        BudgetScope(ScopeKind.USER, uuid.uuid4()),
        tokens={Period.DAY: daily_tokens, Period.MONTH: monthly_tokens},
        cost={Period.DAY: None if daily_cost is None else Decimal(daily_cost), Period.MONTH: None},
    )


@pytest.fixture
def store(app: FastAPI) -> KeyValueStore:
    shared: KeyValueStore = app.state.store
    return shared


async def test_a_reservation_past_the_limit_is_refused_and_holds_nothing(
    store: KeyValueStore,
) -> None:
    ledger = BudgetLedger(store)
    limits = _limits(daily_tokens=100)
    await ledger.reserve([limits], tokens=60, cost=Decimal(0))

    with pytest.raises(BudgetExceededError) as refused:
        await ledger.reserve([limits], tokens=50, cost=Decimal(0))

    exhaustion = refused.value.exhaustion
    assert (exhaustion.metric, exhaustion.period) == (Metric.TOKENS, Period.DAY)
    assert (exhaustion.limit, exhaustion.used) == (100, 60)
    assert "resets at" in str(refused.value)
    assert (await ledger.used(limits))[(Metric.TOKENS, Period.MONTH)] == 60


async def test_settling_keeps_what_was_spent_and_gives_back_the_rest(
    store: KeyValueStore,
) -> None:
    ledger = BudgetLedger(store)
    limits = _limits(daily_tokens=100, daily_cost="0.01")
    held = await ledger.reserve([limits], tokens=90, cost=Decimal("0.009"))
    await ledger.settle(held, tokens=30, cost=Decimal("0.002"))

    used = await ledger.used(limits)
    assert used[(Metric.TOKENS, Period.DAY)] == 30
    assert used[(Metric.COST, Period.DAY)] == Decimal("0.002")
    # What was given back is available again.
    await ledger.reserve([limits], tokens=70, cost=Decimal("0.008"))
    assert await ledger.exhausted([limits]) is not None


async def test_a_spent_cost_budget_names_its_limit_use_and_reset(store: KeyValueStore) -> None:
    clock = MovableClock(datetime(2026, 12, 2, 15, 30, tzinfo=UTC))
    ledger = BudgetLedger(store, clock=clock)
    limits = _limits(daily_cost="0.50")
    held = await ledger.reserve([limits], tokens=1, cost=Decimal("0.50"))
    await ledger.settle(held, tokens=1, cost=Decimal("0.50"))

    exhausted = await ledger.exhausted([limits])

    assert exhausted is not None
    assert exhausted.body() == {
        "scope": {"kind": "user", "id": str(limits.scope.id)},
        "metric": "cost",
        "period": "day",
        "limit": "0.5",
        "used": "0.5",
        "resets_at": "2026-12-03T00:00:00+00:00",
    }


async def test_the_day_rolls_over_at_midnight_and_the_month_at_its_end(
    store: KeyValueStore,
) -> None:
    clock = MovableClock(datetime(2026, 12, 31, 23, 59, tzinfo=UTC))
    ledger = BudgetLedger(store, clock=clock)
    limits = _limits(daily_tokens=100, monthly_tokens=150)
    await ledger.reserve([limits], tokens=100, cost=Decimal(0))
    assert await ledger.exhausted([limits]) is not None

    clock.now = datetime(2027, 1, 1, 0, 0, 1, tzinfo=UTC)
    assert await ledger.exhausted([limits]) is None
    await ledger.reserve([limits], tokens=100, cost=Decimal(0))

    clock.now += timedelta(days=1)
    # A new day, but the month still holds January's 100 of 150.
    with pytest.raises(BudgetExceededError) as refused:
        await ledger.reserve([limits], tokens=60, cost=Decimal(0))
    assert refused.value.exhaustion.period is Period.MONTH
    assert refused.value.exhaustion.resets_at == datetime(2027, 2, 1, tzinfo=UTC)


async def test_every_scope_must_have_room(store: KeyValueStore) -> None:
    ledger = BudgetLedger(store)
    roomy = _limits(daily_tokens=1_000)
    tight = ScopeLimits(
        BudgetScope(ScopeKind.ORGANIZATION, uuid.uuid4()),
        tokens={Period.DAY: 10, Period.MONTH: None},
        cost=dict.fromkeys(Period),
    )

    with pytest.raises(BudgetExceededError) as refused:
        await ledger.reserve([roomy, tight], tokens=20, cost=Decimal(0))

    assert refused.value.exhaustion.scope == tight.scope
    assert (await ledger.used(roomy))[(Metric.TOKENS, Period.DAY)] == 0


async def test_racing_reservations_never_hold_more_than_the_limit(store: KeyValueStore) -> None:
    ledger = BudgetLedger(store)
    limits = _limits(daily_tokens=1_000)

    async def try_once() -> bool:
        try:
            await ledger.reserve([limits], tokens=70, cost=Decimal(0))
        except BudgetExceededError:
            return False
        return True

    granted = await asyncio.gather(*(try_once() for _ in range(40)))

    assert sum(granted) == 1_000 // 70
    assert (await ledger.used(limits))[(Metric.TOKENS, Period.DAY)] == 70 * (1_000 // 70)
