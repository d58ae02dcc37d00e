"""A small key-value store with expiry: Redis when configured, process memory otherwise.

Revoked tokens and cancellation flags live here, so with Redis every worker and
replica sees them; the in-memory store serves a single process only.
"""

from __future__ import annotations

import time
from typing import Protocol

from app.core.config import Settings


class KeyValueStore(Protocol):
    """The operations the service needs; both backends implement exactly these."""

    async def set(self, key: str, value: str, *, ttl_seconds: int | None = None) -> None: ...

    async def add(self, key: str, value: str, *, ttl_seconds: int | None = None) -> bool:
        """Set only if absent, atomically; True when this call set it."""
        ...

    async def get(self, key: str) -> str | None: ...

    async def delete(self, key: str) -> None: ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...


class MemoryStore:
    """A dict with expiry times, for one process (development, tests, single-worker deploys)."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[str, float | None]] = {}

    async def set(self, key: str, value: str, *, ttl_seconds: int | None = None) -> None:
        expires_at = time.monotonic() + ttl_seconds if ttl_seconds else None
        self._items[key] = (value, expires_at)
        self._evict_expired()

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
            self._items.pop(key, None)
            return None
        return value

    async def delete(self, key: str) -> None:
        self._items.pop(key, None)

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._items.clear()

    def _evict_expired(self) -> None:
        now = time.monotonic()
        expired = [k for k, (_, exp) in self._items.items() if exp is not None and exp <= now]
        for key in expired:
            del self._items[key]


def create_store(settings: Settings) -> KeyValueStore:
    """Pick the backend from settings."""
{%- if cookiecutter.use_redis %}
    if settings.redis_url:
        from app.core.store_redis import RedisStore

        return RedisStore.from_url(settings.redis_url)
{%- endif %}
    return MemoryStore()
