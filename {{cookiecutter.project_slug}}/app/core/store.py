"""A small key-value store with expiry: Redis when configured, process memory otherwise.

Revoked tokens and cancellation flags live here, so with Redis every worker and
replica sees them; the in-memory store serves a single process only.
"""

from __future__ import annotations

import heapq
import time
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


def create_store(settings: Settings) -> KeyValueStore:
    """Pick the backend from settings."""
{%- if cookiecutter.use_redis %}
    if settings.redis_url:
        from app.core.store_redis import RedisStore

        return RedisStore.from_url(settings.redis_url)
{%- endif %}
    return MemoryStore()
