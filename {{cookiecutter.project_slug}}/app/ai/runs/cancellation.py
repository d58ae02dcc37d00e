"""Stopping runs, from this process or any other, and telling live runs from dead ones.

A cancel request sets a flag in the key-value store; each run's watcher polls it and
cancels its task. A cancellation can be lost inside a client library (Python 3.11's
`wait_for`, which redis-py uses under a socket timeout, can swallow one), so the watcher
repeats it and also raises a flag the run checks at each event it emits. The watcher also renews a short lease: a run whose lease has lapsed
belongs to a process that died, and the periodic sweep marks it failed. With Redis the
flags and leases are shared by every worker and replica.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator

from app.core.bounded import quietly, settle
from app.core.store import KeyValueStore

CANCEL_PREFIX = "execution-cancel:"
LEASE_PREFIX = "execution-lease:"
CANCEL_FLAG_TTL_SECONDS = 3600
LEASE_TTL_SECONDS = 30
POLL_INTERVAL_SECONDS = 0.2
# Bounds on the watcher's own work, so the run it guards never waits on the store for long.
STORE_CALL_SECONDS = 5.0
STOP_WAIT_SECONDS = 2.0
RECANCEL_SECONDS = 1.0


async def request_cancel(store: KeyValueStore, execution_id: uuid.UUID) -> None:
    """Ask whichever process runs this execution to stop it."""
    await store.set(f"{CANCEL_PREFIX}{execution_id}", "1", ttl_seconds=CANCEL_FLAG_TTL_SECONDS)


async def is_cancel_requested(store: KeyValueStore, execution_id: uuid.UUID) -> bool:
    """True once any process has asked for this execution to stop."""
    return await store.get(f"{CANCEL_PREFIX}{execution_id}") is not None


async def has_live_lease(store: KeyValueStore, execution_id: uuid.UUID) -> bool:
    """True while some process is still running this execution."""
    return await store.get(f"{LEASE_PREFIX}{execution_id}") is not None


async def renew_lease(
    store: KeyValueStore, execution_id: uuid.UUID, seconds: float = LEASE_TTL_SECONDS
) -> None:
    """Claim the execution as running here for another lease period."""
    await store.set(f"{LEASE_PREFIX}{execution_id}", "1", ttl_seconds=max(1, round(seconds)))


async def release_lease(store: KeyValueStore, execution_id: uuid.UUID) -> None:
    """Give up the claim once the run has ended."""
    await store.delete(f"{LEASE_PREFIX}{execution_id}")


@contextlib.asynccontextmanager
async def watched(
    store: KeyValueStore,
    execution_id: uuid.UUID,
    seen: asyncio.Event | None = None,
    *,
    lease_seconds: float = LEASE_TTL_SECONDS,
) -> AsyncIterator[None]:
    """Run the block under a lease, cancelling it as soon as a cancel flag appears.

    The watcher stops on an event, not on `cancel()`, and leaving the block waits for it
    at most `STOP_WAIT_SECONDS`: a store call that swallows a cancellation cannot keep
    the run (or the lease) alive. `seen` is set when the flag is found, so the block can
    also stop itself at its next step if a cancellation is lost.
    """
    task = asyncio.current_task()
    assert task is not None
    stop = asyncio.Event()
    renewal = renew_lease(store, execution_id, lease_seconds)
    await quietly(renewal, STORE_CALL_SECONDS, what="lease renewal")
    watcher = asyncio.create_task(
        _watch(store, execution_id, task, stop, seen or asyncio.Event(), lease_seconds)
    )
    try:
        yield
    finally:
        stop.set()
        await settle(watcher, STOP_WAIT_SECONDS)
        await quietly(release_lease(store, execution_id), STORE_CALL_SECONDS, what="lease release")


async def _watch(
    store: KeyValueStore,
    execution_id: uuid.UUID,
    task: asyncio.Task[object],
    stop: asyncio.Event,
    seen: asyncio.Event,
    lease_seconds: float,
) -> None:
    """Poll the cancel flag and renew the lease until `stop` is set.

    Once a cancel is seen the run is cancelled again every `RECANCEL_SECONDS` until it
    stops, so a cancellation lost inside some library call is delivered again. Both are
    timed by the clock, not by counting polls: on a busy event loop a poll takes longer
    than its interval, and a lease renewed every so many polls would lapse under load.
    """
    renew_every = lease_seconds / 3
    renewed_at = time.monotonic()
    cancelled_at: float | None = None
    while not await _stopped_within(stop, POLL_INTERVAL_SECONDS):
        now = time.monotonic()
        if cancelled_at is not None:
            if now - cancelled_at >= RECANCEL_SECONDS:
                cancelled_at = now
                task.cancel()
        elif await quietly(
            is_cancel_requested(store, execution_id), STORE_CALL_SECONDS, what="cancel check"
        ):
            cancelled_at = time.monotonic()
            seen.set()
            task.cancel()
        if time.monotonic() - renewed_at >= renew_every:
            renewed_at = time.monotonic()
            await quietly(
                renew_lease(store, execution_id, lease_seconds),
                STORE_CALL_SECONDS,
                what="lease renewal",
            )


async def _stopped_within(stop: asyncio.Event, seconds: float) -> bool:
    """Whether `stop` is set within `seconds`."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
    return stop.is_set()
