"""Periodic sweeps for work a dead process left behind, one process at a time.

Every process that executes work wakes each interval; only the one that takes the
store's lock for the interval sweeps. A failed sweep is logged and the next one comes:
one bad pass must not end sweeping for the life of the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Awaitable, Callable

import structlog

from app.core.outages import OUTAGE_ERRORS
from app.core.store import KeyValueStore

logger = structlog.get_logger(__name__)


async def sweep_if_first(
    store: KeyValueStore, lock_key: str, interval: float, sweep: Callable[[], Awaitable[int]]
) -> int | None:
    """Sweep if no other process has this interval; the count swept, or None when skipped."""
    if not await store.add(lock_key, "1", ttl_seconds=max(1, math.ceil(interval))):
        return None
    return await sweep()


async def sweep_until_stopped(
    store: KeyValueStore,
    *,
    name: str,
    lock_key: str,
    interval: float,
    sweep: Callable[[], Awaitable[int]],
    stop: asyncio.Event,
) -> None:
    """Call `sweep_if_first` every `interval` seconds until `stop` is set."""
    while not stop.is_set():
        try:
            await sweep_if_first(store, lock_key, interval, sweep)
        except OUTAGE_ERRORS as exc:
            logger.warning(f"{name}_sweep_skipped", error=repr(exc))
        except Exception:
            logger.exception(f"{name}_sweep_failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
