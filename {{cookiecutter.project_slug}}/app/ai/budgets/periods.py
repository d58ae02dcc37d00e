"""Budget periods: a UTC day and a UTC month, with their keys and when they reset."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

Clock = Callable[[], datetime]


def utc_clock() -> datetime:
    """Now, in UTC: the clock budgets use unless a test passes its own."""
    return datetime.now(UTC)


class Period(StrEnum):
    """How long a spending limit runs before it starts again."""

    DAY = "day"
    MONTH = "month"


@dataclass(frozen=True, slots=True)
class PeriodWindow:
    """One period as it stands at a moment: its key stamp and the instant it resets."""

    period: Period
    stamp: str
    resets_at: datetime

    def seconds_left(self, now: datetime) -> int:
        """Whole seconds until the reset, at least one."""
        return max(1, int((self.resets_at - now).total_seconds()) + 1)


def window(period: Period, now: datetime) -> PeriodWindow:
    """The day or month `now` falls in, in UTC."""
    now = now.astimezone(UTC)
    if period is Period.DAY:
        start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return PeriodWindow(period, start.strftime("%Y-%m-%d"), start + timedelta(days=1))
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = (start + timedelta(days=32)).replace(day=1)
    return PeriodWindow(period, start.strftime("%Y-%m"), following)
