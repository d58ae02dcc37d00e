"""Rate limiting on the `limits` library, over whichever storage the caller gives it."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter

from app.core.errors import RateLimitedError


class RateLimiter:
    """A moving-window limit per key, e.g. `/api/v1/auth/login:203.0.113.7`."""

    def __init__(
        self,
        storage: Storage,
        limit: str,
        *,
        on_close: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.storage = storage
        self.item: RateLimitItem = parse(limit)
        self._strategy = MovingWindowRateLimiter(storage)
        self._on_close = on_close

    async def hit(self, key: str) -> None:
        """Count one request; raises `RateLimitedError` with a Retry-After once over the limit."""
        if await self._strategy.hit(self.item, key):
            return
        stats = await self._strategy.get_window_stats(self.item, key)
        raise RateLimitedError(retry_after=max(1, int(stats.reset_time - time.time()) + 1))

    async def reset(self) -> None:
        """Forget every counter (tests, and operators lifting a lockout)."""
        await self.storage.reset()

    async def close(self) -> None:
        """Release the storage's connections at shutdown; later calls do nothing."""
        on_close, self._on_close = self._on_close, None
        if on_close is not None:
            await on_close()
