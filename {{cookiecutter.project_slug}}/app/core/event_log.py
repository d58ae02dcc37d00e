"""Append-only event logs with ordered ids, kept for a while: what resumable streams read.

An id is two integers, `major-minor`, as in a Redis stream. The writer chooses it, and a
log takes only ids above its last one, so writing an event again (a resumed run replaying
what it already sent) changes nothing. Readers ask for everything after the last id they
saw and wait a bounded time for more; the in-process log below serves a single process.
"""

from __future__ import annotations

import asyncio
import bisect
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

_ID = re.compile(r"(\d{1,18})-(\d{1,18})")
# The id before every other: reading after it reads a log from its start.
START = "0-0"


class LogEntry(NamedTuple):
    """One event as the log keeps it: its id and its encoded body."""

    id: str
    message: str


def parse_id(value: str) -> tuple[int, int]:
    """The id's two integers, for ordering; ValueError when it is not `major-minor`."""
    match = _ID.fullmatch(value)
    if match is None:
        raise ValueError(f"not an event id: {value!r}")
    return int(match[1]), int(match[2])


def is_valid_id(value: str) -> bool:
    """Whether `value` is an id a log could have given (what `Last-Event-ID` must be)."""
    return _ID.fullmatch(value) is not None


# How often the in-process logs are scanned for expired ones.
SWEEP_SECONDS = 1.0


@dataclass
class _Log:
    keys: list[tuple[int, int]] = field(default_factory=list)
    entries: list[LogEntry] = field(default_factory=list)
    expires_at: float = 0.0
    grown: asyncio.Event = field(default_factory=asyncio.Event)


class MemoryEventLogs:
    """Event logs in this process's memory, each dropped once its time is up."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._logs: dict[str, _Log] = {}
        self._next_sweep = 0.0

    def append(self, name: str, entry_id: str, message: str, *, ttl_seconds: int) -> bool:
        """Add an entry above the last one (else False) and keep the log `ttl_seconds` more."""
        self._drop_expired()
        key = parse_id(entry_id)
        log = self._logs.setdefault(name, _Log())
        log.expires_at = self._clock() + ttl_seconds
        if log.keys and key <= log.keys[-1]:
            return False
        log.keys.append(key)
        log.entries.append(LogEntry(entry_id, message))
        log.grown.set()
        log.grown = asyncio.Event()
        return True

    async def read(
        self, name: str, after: str, *, wait_seconds: float, limit: int
    ) -> list[LogEntry]:
        """Entries after `after`, oldest first; waits up to `wait_seconds` when there are none."""
        entries = self._after(name, parse_id(after), limit)
        if entries or wait_seconds <= 0:
            return entries
        log = self._logs.setdefault(name, _Log(expires_at=self._clock() + wait_seconds))
        try:
            await asyncio.wait_for(log.grown.wait(), wait_seconds)
        except TimeoutError:
            return []
        return self._after(name, parse_id(after), limit)

    def discard(self, name: str) -> None:
        """Forget a log at once; a missing log is not an error."""
        self._logs.pop(name, None)

    def _after(self, name: str, after: tuple[int, int], limit: int) -> list[LogEntry]:
        """Up to `limit` entries above `after`, found by bisection: readers poll long logs."""
        log = self._logs.get(name)
        if log is None or log.expires_at <= self._clock():
            return []
        start = bisect.bisect_right(log.keys, after)
        return log.entries[start : start + limit]

    def _drop_expired(self) -> None:
        """Forget logs whose time is up, scanning at most once every `SWEEP_SECONDS`."""
        now = self._clock()
        if now < self._next_sweep:
            return
        self._next_sweep = now + SWEEP_SECONDS
        for name in [name for name, log in self._logs.items() if log.expires_at <= now]:
            del self._logs[name]

    def __len__(self) -> int:
        """Logs held, expired ones included until the next append drops them."""
        return len(self._logs)
