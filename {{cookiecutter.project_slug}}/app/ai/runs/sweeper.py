"""The orphan sweep, repeated while the service runs, one worker at a time.

A process that dies leaves its runs `running`; once their leases lapse, the sweep fails
them. Each worker wakes every interval, but only the one that takes the store's sweep
lock (held for one interval) does the work.
"""

from __future__ import annotations

import asyncio
import contextlib
import math

import structlog

from app.ai.runs.lifecycle import RunManager
from app.core.bounded import settle
from app.core.outages import OUTAGE_ERRORS
from app.core.store import KeyValueStore

logger = structlog.get_logger(__name__)

SWEEP_LOCK_KEY = "execution-sweep-lock"
STOP_WAIT_SECONDS = 5.0


async def sweep_once(runs: RunManager, store: KeyValueStore, interval: float) -> int | None:
    """Sweep if no other worker has this interval; the count swept, or None when skipped."""
    lock_seconds = max(1, math.ceil(interval))
    if not await store.add(SWEEP_LOCK_KEY, "1", ttl_seconds=lock_seconds):
        return None
    return await runs.sweep_orphans()


class Sweeper:
    """Runs `sweep_once` every `interval` seconds until stopped; a failed sweep is logged."""

    def __init__(self, runs: RunManager, store: KeyValueStore, interval: float) -> None:
        self.runs = runs
        self.store = store
        self.interval = interval
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin sweeping in the background."""
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        """Stop sweeping, waiting a bounded time for a sweep in progress."""
        self._stop.set()
        if self._task is not None:
            await settle(self._task, STOP_WAIT_SECONDS)

    async def _loop(self) -> None:
        while True:
            try:
                await sweep_once(self.runs, self.store, self.interval)
            except OUTAGE_ERRORS as exc:
                logger.warning("execution_sweep_skipped", error=repr(exc))
            except Exception:
                # One bad sweep must not end sweeping for the life of the process.
                logger.exception("execution_sweep_failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.interval)
            if self._stop.is_set():
                return
