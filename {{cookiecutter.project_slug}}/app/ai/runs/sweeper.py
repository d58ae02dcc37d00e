"""The orphan sweep of runs, repeated while the service runs, one worker at a time.

A process that dies leaves its runs `running`; once their leases lapse, the sweep
resumes them or fails them (app/core/sweeping.py has the schedule and the lock).
"""

from __future__ import annotations

import asyncio

from app.ai.runs.lifecycle import RunManager
from app.core.bounded import settle
from app.core.store import KeyValueStore
from app.core.sweeping import sweep_until_stopped

SWEEP_LOCK_KEY = "execution-sweep-lock"
STOP_WAIT_SECONDS = 5.0


class Sweeper:
    """Runs the run manager's orphan sweep every `interval` seconds until stopped."""

    def __init__(self, runs: RunManager, store: KeyValueStore, interval: float) -> None:
        self.runs = runs
        self.store = store
        self.interval = interval
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin sweeping in the background."""
        self._task = asyncio.create_task(
            sweep_until_stopped(
                self.store,
                name="execution",
                lock_key=SWEEP_LOCK_KEY,
                interval=self.interval,
                sweep=self.runs.sweep_orphans,
                stop=self._stop,
            )
        )

    async def stop(self) -> None:
        """Stop sweeping, waiting a bounded time for a sweep in progress."""
        self._stop.set()
        if self._task is not None:
            await settle(self._task, STOP_WAIT_SECONDS)
