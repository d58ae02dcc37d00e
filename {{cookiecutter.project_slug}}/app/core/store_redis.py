"""The Redis key-value store: state every worker and replica sees alike."""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from urllib.parse import urlsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import RedisError, ResponseError

from app.core.event_log import LogEntry
from app.core.store import READ_LIMIT, Increment, StoreUnavailableError

# Bounded waits, so an unreachable Redis fails a request instead of stalling it.
SOCKET_TIMEOUT_SECONDS = 5.0
MAX_CONNECTIONS = 100
POOL_TIMEOUT_SECONDS = 2.0
DEFAULT_PORT = 6379
# The field each event log entry keeps its message in.
MESSAGE_FIELD = "m"
# Redis's answer to an XADD whose id is not above the stream's last one.
_NOT_ABOVE_TOP = "equal or smaller"
# Checks every counter against its limit (-1: none), then adds to them all, in one atomic
# call; a counter it creates expires after its TTL. Answers 0, or the first refused one's
# position counted from 1.
_INCREMENT_WITHIN = """
local counts = {}
for i = 1, #KEYS do
  local amount = tonumber(ARGV[3 * i - 2])
  local limit = tonumber(ARGV[3 * i - 1])
  counts[i] = tonumber(redis.call('GET', KEYS[i]) or '0')
  if amount > 0 and limit >= 0 and counts[i] + amount > limit then
    return i
  end
end
for i = 1, #KEYS do
  redis.call('INCRBY', KEYS[i], ARGV[3 * i - 2])
  if redis.call('TTL', KEYS[i]) < 0 then
    redis.call('EXPIRE', KEYS[i], ARGV[3 * i])
  end
end
return 0
"""


class RedisStore:
    """Thin async wrapper that keeps Redis types out of the rest of the code."""

    def __init__(self, client: Redis) -> None:
        self.client = client
        socket_timeout = client.connection_pool.connection_kwargs.get("socket_timeout")
        # A blocking read must end well before the socket gives up on a quiet connection.
        self._longest_block = float(socket_timeout or SOCKET_TIMEOUT_SECONDS) / 2

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

    async def increment_within(self, increments: Sequence[Increment]) -> int | None:
        """One Lua script: every worker's increments to the same counters queue behind it."""
        if not increments:
            return None
        arguments: list[int] = []
        for step in increments:
            limit = -1 if step.limit is None else step.limit
            arguments += [step.amount, limit, max(1, step.ttl_seconds)]
        keys = [step.key for step in increments]
        with _unavailable():
            refused = await self.client.eval(_INCREMENT_WITHIN, len(keys), *keys, *arguments)
        return None if not refused else int(refused) - 1

    async def append_event(
        self, log: str, entry_id: str, message: str, *, ttl_seconds: int
    ) -> bool:
        """`XADD` with the writer's id, then `EXPIRE`, in one round trip; False for an old id."""
        with _unavailable():
            async with self.client.pipeline(transaction=False) as pipe:
                pipe.xadd(log, {MESSAGE_FIELD: message}, id=entry_id)
                pipe.expire(log, ttl_seconds)
                added, _ = await pipe.execute(raise_on_error=False)
        if isinstance(added, ResponseError):
            if _NOT_ABOVE_TOP in str(added):
                return False
            raise StoreUnavailableError(f"Redis refused an event ({added})")
        return True

    async def read_events(
        self, log: str, after: str, *, wait_seconds: float, limit: int = READ_LIMIT
    ) -> list[LogEntry]:
        """`XREAD`, blocking up to `wait_seconds` (kept under the socket timeout) for news."""
        block = round(min(wait_seconds, self._longest_block) * 1000) or None
        with _unavailable():
            reply: list[tuple[str, list[tuple[str, dict[str, str]]]]] | None
            reply = await self.client.xread({log: after}, count=limit, block=block)  # type: ignore[assignment]
        if not reply:
            return []
        [(_name, entries)] = reply
        return [LogEntry(str(entry_id), str(fields[MESSAGE_FIELD])) for entry_id, fields in entries]

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
