"""The Redis key-value store: state every worker and replica sees alike."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError


class RedisStore:
    """Thin async wrapper that keeps Redis types out of the rest of the code."""

    def __init__(self, client: Redis) -> None:
        self.client = client

    @classmethod
    def from_url(cls, url: str, *, timeout_seconds: float) -> RedisStore:
        """A store with its own connection pool on the given server.

        Connecting gives up after `timeout_seconds`, so an unreachable Redis fails fast.
        """
        return cls(
            Redis.from_url(
                url,
                decode_responses=True,
                # No read timeout: blocking reads (e.g. pub/sub) may idle for long.
                socket_connect_timeout=timeout_seconds,
            )
        )

    async def set(self, key: str, value: str, *, ttl_seconds: int | None = None) -> None:
        """Store `value`; Redis expires it after `ttl_seconds` when one is given."""
        await self.client.set(key, value, ex=ttl_seconds or None)

    async def add(self, key: str, value: str, *, ttl_seconds: int | None = None) -> bool:
        """`SET NX`: the one atomic claim every worker can race for fairly."""
        return bool(await self.client.set(key, value, ex=ttl_seconds or None, nx=True))

    async def get(self, key: str) -> str | None:
        """The value, or None once it is deleted or expired."""
        value = await self.client.get(key)
        return None if value is None else str(value)

    async def delete(self, key: str) -> None:
        """Forget `key` for every worker at once."""
        await self.client.delete(key)

    async def publish(self, channel: str, message: str) -> None:
        """Fan `message` out to every subscribed worker."""
        await self.client.publish(channel, message)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[str]]:
        """Messages on `channel` from any worker, until the block exits and unsubscribes."""
        pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(channel)
        try:
            yield _messages(pubsub)
        finally:
            await pubsub.unsubscribe(channel)
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def ping(self) -> bool:
        """Whether Redis answers, for the readiness probe; never raises."""
        try:
            # redis-py 7 types ping() as "awaitable or not", whichever client it is on.
            reply = self.client.ping()
            return bool(await reply if inspect.isawaitable(reply) else reply)
        except (RedisError, OSError):
            return False

    async def close(self) -> None:
        """Release the connection pool at shutdown."""
        await self.client.aclose()


async def _messages(pubsub: PubSub) -> AsyncIterator[str]:
    # Polling with a timeout, not `listen()`: a quiet channel must not trip the socket timeout.
    while True:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
        if message is not None and message["type"] == "message":
            yield str(message["data"])
