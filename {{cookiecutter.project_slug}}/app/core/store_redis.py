"""The Redis key-value store: state every worker and replica sees alike."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager, suppress
from urllib.parse import urlsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from app.core.store import StoreUnavailableError

# Bounded waits, so an unreachable Redis fails a request instead of stalling it.
SOCKET_TIMEOUT_SECONDS = 5.0
MAX_CONNECTIONS = 100
POOL_TIMEOUT_SECONDS = 2.0
DEFAULT_PORT = 6379


class RedisStore:
    """Thin async wrapper that keeps Redis types out of the rest of the code."""

    def __init__(self, client: Redis) -> None:
        self.client = client

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        socket_timeout: float = SOCKET_TIMEOUT_SECONDS,
        max_connections: int = MAX_CONNECTIONS,
        pool_timeout: float = POOL_TIMEOUT_SECONDS,
    ) -> RedisStore:
        """A store with its own bounded pool: every call waits at most the given times.

        A stalled server fails a call after `socket_timeout`; a full pool makes a call wait
        up to `pool_timeout` for a free connection, then fail, instead of opening more.
        """
        pool = BlockingConnectionPool.from_url(
            url,
            decode_responses=True,
            max_connections=max_connections,
            timeout=pool_timeout,
            socket_timeout=socket_timeout,
            socket_connect_timeout=socket_timeout,
        )
        return cls(Redis.from_pool(pool))

    async def set(self, key: str, value: str, *, ttl_seconds: int | None = None) -> None:
        """Store `value`; Redis expires it after `ttl_seconds` when one is given."""
        with _unavailable():
            await self.client.set(key, value, ex=ttl_seconds or None)

    async def add(self, key: str, value: str, *, ttl_seconds: int | None = None) -> bool:
        """`SET NX`: the one atomic claim every worker can race for fairly."""
        with _unavailable():
            return bool(await self.client.set(key, value, ex=ttl_seconds or None, nx=True))

    async def get(self, key: str) -> str | None:
        """The value, or None once it is deleted or expired."""
        with _unavailable():
            value = await self.client.get(key)
        return None if value is None else str(value)

    async def get_many(self, keys: Sequence[str]) -> list[str | None]:
        """`MGET`: every value in one round trip, None for each missing key."""
        if not keys:
            return []
        with _unavailable():
            values = await self.client.mget(list(keys))
        return [None if value is None else str(value) for value in values]

    async def delete(self, key: str) -> None:
        """Forget `key` for every worker at once."""
        with _unavailable():
            await self.client.delete(key)

    async def publish(self, channel: str, message: str) -> None:
        """Fan `message` out to every subscribed worker."""
        with _unavailable():
            await self.client.publish(channel, message)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[str]]:
        """Messages on `channel` from any worker, until the block exits and unsubscribes."""
        pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        try:
            with _unavailable():
                await pubsub.subscribe(channel)
            yield _messages(pubsub)
        finally:
            with suppress(RedisError, OSError):
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


async def ping_once(url: str, *, timeout_seconds: float) -> None:
    """Connect to `url` and PING on a connection of its own, for the start-up wait.

    Raises:
        StoreUnavailableError: Redis refused, timed out or failed the PING.
    """
    client = Redis.from_url(
        url, socket_timeout=timeout_seconds, socket_connect_timeout=timeout_seconds
    )
    try:
        with _unavailable():
            reply = client.ping()
            await reply if inspect.isawaitable(reply) else reply
    finally:
        await client.aclose()


def redis_location(url: str) -> str:
    """Where REDIS_URL points, without user or password: `host:port`, or the socket's path."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"socket {parts.path}"
    return f"{parts.hostname or 'localhost'}:{parts.port or DEFAULT_PORT}"


@contextmanager
def _unavailable() -> Iterator[None]:
    """Redis's own errors (refused, timed out, pool exhausted) as the store's one error."""
    try:
        yield
    except (RedisError, OSError) as exc:
        raise StoreUnavailableError(f"Redis is unavailable ({type(exc).__name__})") from exc


async def _messages(pubsub: PubSub) -> AsyncIterator[str]:
    # Polling with a timeout, not `listen()`: the poll's own timeout replaces the socket's,
    # so a quiet channel never trips it.
    while True:
        with _unavailable():
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
        if message is not None and message["type"] == "message":
            yield str(message["data"])
