"""Rate limiting on the `limits` library: Redis-backed when configured, in-process otherwise."""

from __future__ import annotations

import time

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from app.core.config import Settings
from app.core.errors import RateLimitedError


class RateLimiter:
    """A moving-window limit per key, e.g. `login:203.0.113.7`."""

    def __init__(self, storage: Storage, limit: str) -> None:
        self.storage = storage
        self.item: RateLimitItem = parse(limit)
        self._strategy = MovingWindowRateLimiter(storage)

    async def hit(self, key: str) -> None:
        """Count one request; raises `RateLimitedError` with a Retry-After once over the limit."""
        if await self._strategy.hit(self.item, key):
            return
        stats = await self._strategy.get_window_stats(self.item, key)
        raise RateLimitedError(retry_after=max(1, int(stats.reset_time - time.time()) + 1))

    async def reset(self) -> None:
        await self.storage.reset()


def create_rate_limiter(settings: Settings) -> RateLimiter:
    """Counters shared through Redis when `REDIS_URL` is set, else kept in this process."""
    storage: Storage = MemoryStorage()
{%- if cookiecutter.use_redis %}
    if settings.redis_url:
        from limits.aio.storage import RedisStorage

        storage = RedisStorage(
            "async+" + settings.redis_url, implementation="redispy", key_prefix="ratelimit"
        )
{%- endif %}
    return RateLimiter(storage, settings.auth_rate_limit)
