"""Shared state: keys with expiry plus event logs, and the in-process backend.

Revoked tokens, cancellation flags and run events go through here, so with Redis every
worker and replica sees them; the in-memory store serves a single process only.
`app.core.backends` chooses between them from settings.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from app.core.event_log import LogEntry, MemoryEventLogs

# Most entries one read of an event log returns.
READ_LIMIT = 500


class StoreUnavailableError(Exception):
    """The store did not answer in time or refused the connection; callers may retry later."""


@dataclass(frozen=True, slots=True)
class Increment:
    """Add `amount` to the integer counter `key`, refused if it would go above `limit`.

    A counter created by it expires after `ttl_seconds`; one that exists keeps its expiry.
    A `limit` of None never refuses, nor does a negative `amount` (a release).
    """

    key: str
    amount: int
    limit: int | None
    ttl_seconds: int


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
        """Forget `key` (a value or an event log); a missing key is not an error."""
        ...

    async def increment_within(self, increments: Sequence[Increment]) -> int | None:
        """Apply every increment at once, or none: the index of the first that would overspend."""
        ...

    async def append_event(
        self, log: str, entry_id: str, message: str, *, ttl_seconds: int
    ) -> bool:
        """Add to `log` under `entry_id` if it is above the last id (else False); keep it longer."""
        ...

    async def read_events(
        self, log: str, after: str, *, wait_seconds: float, limit: int = READ_LIMIT
    ) -> list[LogEntry]:
        """Entries of `log` after the id `after`, waiting up to `wait_seconds` for the next."""
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
        self._logs = MemoryEventLogs(clock=clock)

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
        """Forget `key`, a value or an event log; a missing key is not an error."""
        self._items.pop(key, None)
        self._logs.discard(key)

    async def increment_within(self, increments: Sequence[Increment]) -> int | None:
        """Check every limit, then add every amount; nothing awaits, so no other call interleaves."""
        counts = [int(await self.get(step.key) or 0) for step in increments]
        for index, (step, count) in enumerate(zip(increments, counts, strict=True)):
            if step.amount > 0 and step.limit is not None and count + step.amount > step.limit:
                return index
        for step, count in zip(increments, counts, strict=True):
            item = self._items.get(step.key)
            if item is not None:
                self._items[step.key] = (str(count + step.amount), item[1])
            else:
                await self.set(step.key, str(step.amount), ttl_seconds=step.ttl_seconds)
        return None

    async def append_event(
        self, log: str, entry_id: str, message: str, *, ttl_seconds: int
    ) -> bool:
        """Append in memory; readers waiting in this process wake at once."""
        return self._logs.append(log, entry_id, message, ttl_seconds=ttl_seconds)

    async def read_events(
        self, log: str, after: str, *, wait_seconds: float, limit: int = READ_LIMIT
    ) -> list[LogEntry]:
        """Entries after `after`, or the next ones appended within `wait_seconds`."""
        return await self._logs.read(log, after, wait_seconds=wait_seconds, limit=limit)

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
