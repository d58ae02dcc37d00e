"""Whether each configured provider's API answers, checked in the background and cached.

A readiness probe runs every few seconds on every replica; calling each vendor that
often would cost rate limit, time and, with some, money, and would make every probe as
slow as the slowest vendor. So a probe never waits on a provider: it reads the outcome
of the last check, and starts a new one in the background when that outcome is older
than PROVIDER_CHECK_INTERVAL_SECONDS; one check at a time, all providers at once.

A check is one unauthenticated GET of the provider's API URL: any HTTP answer means the
vendor is reachable from here (a 401 or 404 still proves it answers, and no key or
tokens are spent), except 502, 503 and 504, a gateway saying the service behind it is
away; a refused connection or a timeout means it is not reachable either. A provider that failed its last check is degraded, not down: agents on other providers
keep working, and the next check (or the next real call) may well succeed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

# One check gives up after this long; the vendor counts as unreachable.
CHECK_TIMEOUT_SECONDS = 5.0
# A gateway's "the service behind me is away": any other answer proves the API answers.
AWAY_STATUSES = frozenset({502, 503, 504})


@dataclass(frozen=True, slots=True)
class Reachability:
    """The outcome of one check of one provider's API."""

    reachable: bool
    latency_ms: float
    checked_at: datetime
    error: str | None = None


class ProviderReachability:
    """Cached outcomes of checking provider APIs, refreshed at most once per interval.

    `endpoints` maps each provider to the URL to reach; an empty URL (a provider that
    runs in this process) is never checked. An interval of 0 turns checking off.
    """

    def __init__(
        self,
        endpoints: Mapping[str, str],
        *,
        interval_seconds: float,
        timeout_seconds: float = CHECK_TIMEOUT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._endpoints = {name: url for name, url in endpoints.items() if url}
        self._interval = interval_seconds
        self._timeout = timeout_seconds
        self._clock = clock
        self._results: dict[str, Reachability] = {}
        self._started_at: float | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        """Whether checks run at all (a positive interval)."""
        return self._interval > 0

    def reaches(self, name: str) -> bool:
        """Whether `name` has an API to reach, as opposed to running in this process."""
        return name in self._endpoints

    def results(self) -> dict[str, Reachability]:
        """The last outcome per provider (none before the first), refreshed when stale.

        Never waits on the network: a due check is started in the background and its
        outcome is seen by a later call.
        """
        self._refresh_if_due()
        return dict(self._results)

    async def aclose(self) -> None:
        """Stop a check in progress, at shutdown."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    def _refresh_if_due(self) -> None:
        if self._interval <= 0 or not self._endpoints:
            return
        if self._task is not None and not self._task.done():
            return
        now = self._clock()
        if self._started_at is not None and now - self._started_at < self._interval:
            return
        self._started_at = now
        self._task = asyncio.get_running_loop().create_task(self._check_all())

    async def _check_all(self) -> None:
        # Imported here, not at start-up: nothing else may need it before the first probe.
        import httpx

        async with httpx.AsyncClient(timeout=self._timeout, follow_redirects=False) as client:
            names = list(self._endpoints)
            outcomes = await asyncio.gather(
                *(_check(client, self._endpoints[name]) for name in names)
            )
        self._results.update(zip(names, outcomes, strict=True))


async def _check(client: httpx.AsyncClient, url: str) -> Reachability:
    """One GET of `url`: reachable unless it fails, times out or a gateway says it is away."""
    import httpx

    started = time.perf_counter()
    error: str | None = None
    try:
        response = await client.get(url)
    except httpx.HTTPError as exc:
        error = type(exc).__name__
    else:
        if response.status_code in AWAY_STATUSES:
            error = f"HTTP {response.status_code}"
    return Reachability(
        reachable=error is None,
        latency_ms=round((time.perf_counter() - started) * 1000, 2),
        checked_at=datetime.now(UTC),
        error=error,
    )
