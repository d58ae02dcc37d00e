"""The Redis backends: the key-value store and rate-limit counters, shared by every worker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from limits.aio.storage import RedisStorage, Storage
from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from app.core.rate_limit import RateLimiter

RATE_LIMIT_KEY_PREFIX = "ratelimit"
# Bounded waits, so an unreachable Redis fails a request instead of stalling it.
SOCKET_TIMEOUT_SECONDS = 5.0


class RedisStore:
    """Thin async wrapper that keeps Redis types out of the rest of the code."""

    def __init__(self, client: Redis) -> None:
        self.client = client

    @classmethod
    def from_url(cls, url: str) -> RedisStore:
        """A store with its own connection pool on the given server."""
        return cls(
            Redis.from_url(
                url,
                decode_responses=True,
                # No read timeout: blocking reads (e.g. pub/sub) may idle for long.
                socket_connect_timeout=SOCKET_TIMEOUT_SECONDS,
            )
        )

    async def set(self, key: str, value: str, *, ttl_seconds: int | None = None) -> None:
        await self.client.set(key, value, ex=ttl_seconds or None)

    async def add(self, key: str, value: str, *, ttl_seconds: int | None = None) -> bool:
        return bool(await self.client.set(key, value, ex=ttl_seconds or None, nx=True))

    async def get(self, key: str) -> str | None:
        value = await self.client.get(key)
        return None if value is None else str(value)

    async def delete(self, key: str) -> None:
        await self.client.delete(key)

    async def publish(self, channel: str, message: str) -> None:
        await self.client.publish(channel, message)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[str]]:
        pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(channel)
        try:
            yield _messages(pubsub)
        finally:
            await pubsub.unsubscribe(channel)
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def ping(self) -> bool:
        try:
            return bool(await self.client.ping())
        except (RedisError, OSError):
            return False

    async def close(self) -> None:
        await self.client.aclose()


async def _messages(pubsub: PubSub) -> AsyncIterator[str]:
    # Polling with a timeout, not `listen()`: a quiet channel must not trip the socket timeout.
    while True:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
        if message is not None and message["type"] == "message":
            yield str(message["data"])


def redis_rate_limit_storage(pool: ConnectionPool) -> Storage:
    """`limits` storage on a pool this code owns, so shutdown can close its connections.

    The pool carries the address; `limits` is given a bare scheme because its own URL
    parser insists on an explicit port and would reject `redis://localhost/0`.
    """
    options: dict[str, Any] = {"connection_pool": pool}
    return RedisStorage(
        "async+redis://", implementation="redispy", key_prefix=RATE_LIMIT_KEY_PREFIX, **options
    )


def create_redis_rate_limiter(url: str, limit: str) -> RateLimiter:
    """Counters every worker and replica share, so N processes enforce one limit."""
    pool = ConnectionPool.from_url(
        url,
        socket_timeout=SOCKET_TIMEOUT_SECONDS,
        socket_connect_timeout=SOCKET_TIMEOUT_SECONDS,
    )
    return RateLimiter(redis_rate_limit_storage(pool), limit, on_close=pool.aclose)
