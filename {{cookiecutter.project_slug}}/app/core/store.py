"""Shared state: keys with expiry plus publish/subscribe, and the in-process backend.

Revoked tokens, cancellation flags and live run events go through here, so with Redis
every worker and replica sees them; the in-memory store serves a single process only.
`app.core.backends` chooses between them from settings.
"""

from __future__ import annotations

import asyncio
import heapq
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol


class StoreUnavailableError(Exception):
    """The store did not answer in time or refused the connection; callers may retry later."""


class KeyValueStore(Protocol):
    """The operations the service needs; both backends implement exactly these.

    `ttl_seconds` of None (or 0) keeps a key until it is deleted. A backend that cannot
    be reached raises `StoreUnavailableError`, never its own client's errors.
    """

    async def set(self, key: str, value: str, *, ttl_seconds: int | None = None) -> None:
        """Store `value` under `key`, replacing what was there."""
        ...

    async def add(self, key: str, value: str, *, ttl_seconds: int | None = None) -> bool:
        """Set only if absent, atomically; True when this call set it."""
        ...

    async def get(self, key: str) -> str | None:
        """The value, or None when the key is missing or expired."""
        ...

    async def get_many(self, keys: Sequence[str]) -> list[str | None]:
        """The values of `keys` in order, None for each missing one; one round trip."""
        ...

    async def delete(self, key: str) -> None:
        """Forget `key`; a missing key is not an error."""
        ...

    async def publish(self, channel: str, message: str) -> None:
        """Deliver to everyone subscribed to `channel` right now; nothing is kept."""
        ...

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[AsyncIterator[str]]:
        """Messages published to `channel` from the moment the block is entered."""
        ...

    async def ping(self) -> bool:
        """Whether the backend answers, for the readiness probe; never raises."""
        ...

    async def close(self) -> None:
        """Release connections at shutdown."""
        ...


class MemoryStore:
    """A dict with expiry times, for one process (development, tests, single-worker deploys).

    Every method completes without awaiting, so `add` is atomic on the event loop.
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        """`clock` returns monotonic seconds; tests pass one they can move forward."""
        self._clock = clock
        self._items: dict[str, tuple[str, float | None]] = {}
        # (expires_at, key) in expiry order; stale entries are skipped when popped.
        self._expiries: list[tuple[float, str]] = []
        self._subscribers: defaultdict[str, set[asyncio.Queue[str]]] = defaultdict(set)

    async def set(self, key: str, value: str, *, ttl_seconds: int | None = None) -> None:
        """Store `value`, evicting keys whose time is up so memory stays bounded."""
        self._evict_expired()
        expires_at = self._clock() + ttl_seconds if ttl_seconds else None
        self._items[key] = (value, expires_at)
        if expires_at is not None:
            heapq.heappush(self._expiries, (expires_at, key))

    async def add(self, key: str, value: str, *, ttl_seconds: int | None = None) -> bool:
        """Set only if absent; atomic because nothing in it awaits."""
        if await self.get(key) is not None:
            return False
        await self.set(key, value, ttl_seconds=ttl_seconds)
        return True

    async def get(self, key: str) -> str | None:
        """The value, or None once it is deleted or its time is up."""
        item = self._items.get(key)
        if item is None:
            return None
        value, expires_at = item
        if expires_at is not None and expires_at <= self._clock():
            del self._items[key]
            return None
        return value

    async def get_many(self, keys: Sequence[str]) -> list[str | None]:
        """Each key's value, as `get` would give it."""
        return [await self.get(key) for key in keys]

    async def delete(self, key: str) -> None:
        """Forget `key`; a missing key is not an error."""
        self._items.pop(key, None)

    async def publish(self, channel: str, message: str) -> None:
        """Queue `message` for every subscriber in this process."""
        for queue in self._subscribers.get(channel, ()):
            queue.put_nowait(message)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[str]]:
        """Messages on `channel` until the block exits; each subscriber has its own queue."""
        queue: asyncio.Queue[str] = asyncio.Queue()
        self._subscribers[channel].add(queue)
        try:
            yield _drain(queue)
        finally:
            self._subscribers[channel].discard(queue)
            if not self._subscribers[channel]:
                del self._subscribers[channel]

    async def ping(self) -> bool:
        """Always ready: memory needs no connection."""
        return True

    async def close(self) -> None:
        """Drop every key, as a restarted process would."""
        self._items.clear()
        self._expiries.clear()

    def __len__(self) -> int:
        """Keys held, expired ones included until they are evicted."""
        return len(self._items)

    def _evict_expired(self) -> None:
        """Drop keys whose time is up, cheaply: only the heap's due head is examined."""
        now = self._clock()
        while self._expiries and self._expiries[0][0] <= now:
            expires_at, key = heapq.heappop(self._expiries)
            item = self._items.get(key)
            if item is not None and item[1] == expires_at:
                del self._items[key]


async def _drain(queue: asyncio.Queue[str]) -> AsyncIterator[str]:
    while True:
        yield await queue.get()
