"""Rate-limit counters in Redis, so every worker and replica enforces one shared limit."""

from __future__ import annotations

from typing import Any

from limits.aio.storage import RedisStorage, Storage
from redis.asyncio import ConnectionPool

from app.core.rate_limit import RateLimiter
from app.core.rate_limit_fallback import FailOpenStorage

RATE_LIMIT_KEY_PREFIX = "ratelimit"


def redis_rate_limit_storage(pool: ConnectionPool) -> Storage:
    """`limits` storage on a pool this code owns, so shutdown can close its connections.

    The pool carries the address; `limits` is given a bare scheme because its own URL
    parser insists on an explicit port and would reject `redis://localhost/0`.
    """
    options: dict[str, Any] = {"connection_pool": pool}
    return RedisStorage(
        "async+redis://", implementation="redispy", key_prefix=RATE_LIMIT_KEY_PREFIX, **options
    )


def create_redis_rate_limiter(url: str, limit: str, *, timeout_seconds: float) -> RateLimiter:
    """Counters every worker and replica share, so N processes enforce one limit.

    Every Redis call gives up after `timeout_seconds`; while Redis fails, each process
    counts on its own with the same limits (fail open, see `rate_limit_fallback`).
    """
    pool = ConnectionPool.from_url(
        url, socket_timeout=timeout_seconds, socket_connect_timeout=timeout_seconds
    )
    storage = FailOpenStorage(redis_rate_limit_storage(pool))
    return RateLimiter(storage, limit, on_close=pool.aclose)
