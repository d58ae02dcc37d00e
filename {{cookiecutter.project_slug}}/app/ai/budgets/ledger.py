"""Usage counters per scope, metric and period, kept in the shared store.

A model call reserves its most it could spend on every counter of every scope at once,
refused as a whole if one counter would pass its limit; after the call, the reservation
is settled to what was actually spent. So concurrent runs on several workers overspend a
budget by at most what one call's estimate missed, never by whole calls. Costs are
counted in millionths of the price table's currency, so every counter is an integer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, Decimal

from app.ai.budgets.exhaustion import BudgetExceededError, Exhaustion
from app.ai.budgets.limits import Metric, ScopeLimits
from app.ai.budgets.periods import Clock, Period, PeriodWindow, utc_clock, window
from app.core.scopes import BudgetScope
from app.core.store import Increment, KeyValueStore

MICROS = Decimal(1_000_000)
# Counters outlive their period a little, so a call settling just after a reset finds them.
EXPIRY_MARGIN_SECONDS = 3_600


def to_micros(cost: Decimal) -> int:
    """A cost in millionths, rounded up: a reservation never falls short by rounding."""
    return int((cost * MICROS).to_integral_value(rounding=ROUND_CEILING))


def from_micros(micros: int) -> Decimal:
    """Millionths back to the currency."""
    return Decimal(micros) / MICROS


@dataclass(frozen=True, slots=True)
class Counter:
    """One scope's use of one metric in one period, and its limit there in counter units."""

    scope: BudgetScope
    metric: Metric
    window: PeriodWindow
    limit: int | None

    @property
    def key(self) -> str:
        """`budget:user:<id>:tokens:day:2026-12-02`."""
        return f"budget:{self.scope.label}:{self.metric.value}:{self.window.period.value}:{self.window.stamp}"

    def exhaustion(self, used_units: int) -> Exhaustion:
        """This counter's facts for an error, in tokens or currency."""
        assert self.limit is not None
        if self.metric is Metric.TOKENS:
            return Exhaustion(
                self.scope,
                self.metric,
                self.window.period,
                self.limit,
                used_units,
                self.window.resets_at,
            )
        return Exhaustion(
            self.scope,
            self.metric,
            self.window.period,
            from_micros(self.limit),
            from_micros(used_units),
            self.window.resets_at,
        )


@dataclass(frozen=True, slots=True)
class Reservation:
    """What a call holds until it is settled: the counters and the units added to each."""

    counters: tuple[Counter, ...]
    tokens: int
    micros: int


class BudgetLedger:
    """Reserves, settles and reads usage counters; `clock` says which day and month it is."""

    def __init__(self, store: KeyValueStore, *, clock: Clock = utc_clock) -> None:
        self.store = store
        self.clock = clock

    def counters(self, limits: Sequence[ScopeLimits], now: datetime | None = None) -> list[Counter]:
        """Every counter of the scopes as of `now`, whether or not it has a limit."""
        now = now or self.clock()
        found: list[Counter] = []
        for scope_limits in limits:
            for period in Period:
                current = window(period, now)
                tokens = scope_limits.tokens[period]
                cost = scope_limits.cost[period]
                found.append(Counter(scope_limits.scope, Metric.TOKENS, current, tokens))
                found.append(
                    Counter(
                        scope_limits.scope,
                        Metric.COST,
                        current,
                        None if cost is None else to_micros(cost),
                    )
                )
        return found

    async def reserve(
        self, limits: Sequence[ScopeLimits], *, tokens: int, cost: Decimal
    ) -> Reservation:
        """Hold `tokens` and `cost` on every counter, or raise `BudgetExceededError` holding none."""
        now = self.clock()
        counters = self.counters(limits, now)
        micros = to_micros(cost)
        steps = [
            self._increment(counter, now, tokens, micros, limited=True) for counter in counters
        ]
        refused = await self.store.increment_within(steps)
        if refused is not None:
            counter = counters[refused]
            [used] = await self._read([counter])
            raise BudgetExceededError(counter.exhaustion(used))
        return Reservation(tuple(counters), tokens, micros)

    async def settle(self, reservation: Reservation, *, tokens: int, cost: Decimal) -> None:
        """Replace what was held with what was spent (0 and 0 release it all)."""
        extra_tokens = tokens - reservation.tokens
        extra_micros = to_micros(cost) - reservation.micros
        if not extra_tokens and not extra_micros:
            return
        now = self.clock()
        steps = [
            self._increment(counter, now, extra_tokens, extra_micros, limited=False)
            for counter in reservation.counters
        ]
        await self.store.increment_within(steps)

    async def exhausted(self, limits: Sequence[ScopeLimits]) -> Exhaustion | None:
        """The first limited counter already at or over its limit: a run would get nowhere."""
        counters = [counter for counter in self.counters(limits) if counter.limit is not None]
        for counter, used in zip(counters, await self._read(counters), strict=True):
            assert counter.limit is not None
            if used >= counter.limit:
                return counter.exhaustion(used)
        return None

    async def used(self, limits: ScopeLimits) -> dict[tuple[Metric, Period], int | Decimal]:
        """The scope's use of each metric this day and month, in tokens or currency."""
        counters = self.counters([limits])
        values = await self._read(counters)
        return {
            (counter.metric, counter.window.period): (
                value if counter.metric is Metric.TOKENS else from_micros(value)
            )
            for counter, value in zip(counters, values, strict=True)
        }

    async def _read(self, counters: Sequence[Counter]) -> list[int]:
        values = await self.store.get_many([counter.key for counter in counters])
        return [int(value or 0) for value in values]

    @staticmethod
    def _increment(
        counter: Counter, now: datetime, tokens: int, micros: int, *, limited: bool
    ) -> Increment:
        amount = tokens if counter.metric is Metric.TOKENS else micros
        ttl = counter.window.seconds_left(now) + EXPIRY_MARGIN_SECONDS
        return Increment(counter.key, amount, counter.limit if limited else None, ttl)
