"""Rate-limit counters that fail open to this process when the shared store is away.

A limit exists to slow abuse down, not to gate the service: when Redis stops answering,
refusing every sign-in would turn a cache outage into a full outage. So each call goes
to the shared storage first; when that raises, the same call is counted in a
per-process `MemoryStorage` instead, with the same limits. Each worker then enforces
the limit on its own share of the traffic (N workers allow up to N times the limit)
until Redis answers again, which is tried again every `RETRY_SECONDS`.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TypeVar, cast

import structlog
from limits.aio.storage import MemoryStorage, MovingWindowSupport, Storage
from limits.errors import StorageError

logger = structlog.get_logger(__name__)

# How long the local counters stand in before the shared storage is tried again.
RETRY_SECONDS = 1.0
# At most one warning per this many seconds while the shared storage stays away.
WARN_INTERVAL_SECONDS = 60.0

ResultT = TypeVar("ResultT")


class FailOpenStorage(Storage, MovingWindowSupport):
    """The shared storage while it answers, this process's memory while it does not."""

    STORAGE_SCHEME = None

    def __init__(
        self,
        shared: Storage,
        *,
        retry_seconds: float = RETRY_SECONDS,
        warn_interval_seconds: float = WARN_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`shared` must support moving windows, as the rate limiter's strategy needs."""
        super().__init__()
        if not isinstance(shared, MovingWindowSupport):
            raise TypeError("the shared storage must support moving windows")
        self.shared = shared
        self.local = MemoryStorage()
        self._retry_seconds = retry_seconds
        self._warn_interval = warn_interval_seconds
        self._clock = clock
        self._retry_at = 0.0
        self._warned_at: float | None = None
        self._down = False
        self._errors: tuple[type[Exception], ...] = (StorageError, OSError, *_as_tuple(shared))

    @property
    def on_local_counters(self) -> bool:
        """True while calls are counted in this process because the shared storage failed."""
        return self._clock() < self._retry_at

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        """Only the local storage's errors escape; the shared one's are absorbed."""
        return self.local.base_exceptions

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Increment a counter, creating it with `expiry` seconds to live."""
        return await self._either(lambda storage: storage.incr(key, expiry, amount))

    async def get(self, key: str) -> int:
        """The counter's value, 0 when missing."""
        return await self._either(lambda storage: storage.get(key))

    async def get_expiry(self, key: str) -> float:
        """When the counter expires, in epoch seconds."""
        return await self._either(lambda storage: storage.get_expiry(key))

    async def check(self) -> bool:
        """Whether the shared storage answers; the local one always does."""
        try:
            return await self.shared.check()
        except self._errors:
            return False

    async def reset(self) -> int | None:
        """Forget every counter in both places."""
        await self.local.reset()
        try:
            return await self.shared.reset()
        except self._errors as exc:
            self._failed(exc)
            return None

    async def clear(self, key: str) -> None:
        """Forget one counter wherever it is being kept now."""
        await self._either(lambda storage: storage.clear(key))

    async def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        """Take `amount` entries in the moving window when `limit` allows."""
        return await self._either(
            lambda storage: _moving(storage).acquire_entry(key, limit, expiry, amount)
        )

    async def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        """The window's start and how many entries it holds."""
        return await self._either(
            lambda storage: _moving(storage).get_moving_window(key, limit, expiry)
        )

    async def _either(self, call: Callable[[Storage], Awaitable[ResultT]]) -> ResultT:
        """`call` on the shared storage, or on the local one while the shared one fails."""
        if not self.on_local_counters:
            try:
                result = await call(self.shared)
            except self._errors as exc:
                self._failed(exc)
            else:
                await self._recovered()
                return result
        return await call(self.local)

    def _failed(self, exc: Exception) -> None:
        now = self._clock()
        self._down = True
        self._retry_at = now + self._retry_seconds
        if self._warned_at is None or now - self._warned_at >= self._warn_interval:
            self._warned_at = now
            logger.warning(
                "rate_limit_storage_unavailable",
                error=type(exc).__name__,
                fallback="per-process counters",
            )

    async def _recovered(self) -> None:
        """Back on the shared storage: the local counters are dropped for the next outage."""
        if not self._down:
            return
        self._down = False
        await self.local.reset()
        logger.info("rate_limit_storage_recovered")


def _moving(storage: Storage) -> MovingWindowSupport:
    return cast(MovingWindowSupport, storage)


def _as_tuple(storage: Storage) -> tuple[type[Exception], ...]:
    errors = storage.base_exceptions
    return errors if isinstance(errors, tuple) else (errors,)
