"""Shared state: keys with expiry plus publish/subscribe. Redis when configured, memory otherwise.

Revoked tokens, cancellation flags and live run events go through here, so with Redis
every worker and replica sees them; the in-memory store serves a single process only.
"""

from __future__ import annotations

import asyncio
import heapq
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

from app.core.config import Settings


class KeyValueStore(Protocol):
    """The operations the service needs; both backends implement exactly these.

    `ttl_seconds` of None (or 0) keeps a key until it is deleted.
    """

    async def set(self, key: str, value: str, *, ttl_seconds: int | None = None) -> None: ...

    async def add(self, key: str, value: str, *, ttl_seconds: int | None = None) -> bool:
        """Set only if absent, atomically; True when this call set it."""
        ...

    async def get(self, key: str) -> str | None: ...

    async def delete(self, key: str) -> None: ...

    async def publish(self, channel: str, message: str) -> None:
        """Deliver to everyone subscribed to `channel` right now; nothing is kept."""
        ...

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[AsyncIterator[str]]:
        """Messages published to `channel` from the moment the block is entered."""
        ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...


class MemoryStore:
    """A dict with expiry times, for one process (development, tests, single-worker deploys).

    Every method completes without awaiting, so `add` is atomic on the event loop.
    """

    def __init__(self) -> None:
        self._items: dict[str, tuple[str, float | None]] = {}
        # (expires_at, key) in expiry order; stale entries are skipped when popped.
        self._expiries: list[tuple[float, str]] = []
        self._subscribers: defaultdict[str, set[asyncio.Queue[str]]] = defaultdict(set)

    async def set(self, key: str, value: str, *, ttl_seconds: int | None = None) -> None:
        self._evict_expired()
        expires_at = time.monotonic() + ttl_seconds if ttl_seconds else None
        self._items[key] = (value, expires_at)
        if expires_at is not None:
            heapq.heappush(self._expiries, (expires_at, key))

    async def add(self, key: str, value: str, *, ttl_seconds: int | None = None) -> bool:
        if await self.get(key) is not None:
            return False
        await self.set(key, value, ttl_seconds=ttl_seconds)
        return True

    async def get(self, key: str) -> str | None:
        item = self._items.get(key)
        if item is None:
            return None
        value, expires_at = item
        if expires_at is not None and expires_at <= time.monotonic():
            del self._items[key]
            return None
        return value

    async def delete(self, key: str) -> None:
        self._items.pop(key, None)

    async def publish(self, channel: str, message: str) -> None:
        for queue in self._subscribers.get(channel, ()):
            queue.put_nowait(message)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[str]]:
        queue: asyncio.Queue[str] = asyncio.Queue()
        self._subscribers[channel].add(queue)
        try:
            yield _drain(queue)
        finally:
            self._subscribers[channel].discard(queue)
            if not self._subscribers[channel]:
                del self._subscribers[channel]

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._items.clear()
        self._expiries.clear()

    def __len__(self) -> int:
        """Keys held, expired ones included until they are evicted."""
        return len(self._items)

    def _evict_expired(self) -> None:
        """Drop keys whose time is up, cheaply: only the heap's due head is examined."""
        now = time.monotonic()
        while self._expiries and self._expiries[0][0] <= now:
            expires_at, key = heapq.heappop(self._expiries)
            item = self._items.get(key)
            if item is not None and item[1] == expires_at:
                del self._items[key]


async def _drain(queue: asyncio.Queue[str]) -> AsyncIterator[str]:
    while True:
        yield await queue.get()


def create_store(settings: Settings) -> KeyValueStore:
    """Pick the backend from settings."""
{%- if cookiecutter.use_redis %}
    if settings.redis_url:
        from app.core.store_redis import RedisStore

        return RedisStore.from_url(settings.redis_url)
{%- endif %}
    return MemoryStore()
