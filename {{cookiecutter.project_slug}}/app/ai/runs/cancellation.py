"""Stopping runs, from this process or any other, and telling live runs from dead ones.

A cancel request sets a flag in the key-value store; each run's watcher polls it and
cancels its task. The watcher also renews a short lease: a run whose lease has lapsed
belongs to a process that died, and the start-up sweep marks it failed. With Redis the
flags and leases are shared by every worker and replica.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

from app.core.store import KeyValueStore

CANCEL_PREFIX = "execution-cancel:"
LEASE_PREFIX = "execution-lease:"
CANCEL_FLAG_TTL_SECONDS = 3600
LEASE_TTL_SECONDS = 30
POLL_INTERVAL_SECONDS = 0.2


async def request_cancel(store: KeyValueStore, execution_id: uuid.UUID) -> None:
    """Ask whichever process runs this execution to stop it."""
    await store.set(f"{CANCEL_PREFIX}{execution_id}", "1", ttl_seconds=CANCEL_FLAG_TTL_SECONDS)


async def is_cancel_requested(store: KeyValueStore, execution_id: uuid.UUID) -> bool:
    """True once any process has asked for this execution to stop."""
    return await store.get(f"{CANCEL_PREFIX}{execution_id}") is not None


async def has_live_lease(store: KeyValueStore, execution_id: uuid.UUID) -> bool:
    """True while some process is still running this execution."""
    return await store.get(f"{LEASE_PREFIX}{execution_id}") is not None


async def renew_lease(store: KeyValueStore, execution_id: uuid.UUID) -> None:
    """Claim the execution as running here for another lease period."""
    await store.set(f"{LEASE_PREFIX}{execution_id}", "1", ttl_seconds=LEASE_TTL_SECONDS)


async def release_lease(store: KeyValueStore, execution_id: uuid.UUID) -> None:
    """Give up the claim once the run has ended."""
    await store.delete(f"{LEASE_PREFIX}{execution_id}")


@contextlib.asynccontextmanager
async def watched(store: KeyValueStore, execution_id: uuid.UUID) -> AsyncIterator[None]:
    """Run the block under a lease, cancelling it as soon as a cancel flag appears."""
    task = asyncio.current_task()
    assert task is not None
    await renew_lease(store, execution_id)
    watcher = asyncio.create_task(_watch(store, execution_id, task))
    try:
        yield
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        await release_lease(store, execution_id)


async def _watch(store: KeyValueStore, execution_id: uuid.UUID, task: asyncio.Task[object]) -> None:
    polls_per_renewal = int(LEASE_TTL_SECONDS / 3 / POLL_INTERVAL_SECONDS)
    polls = 0
    while True:
        await asyncio.sleep(POLL_INTERVAL_SECONDS)
        if await is_cancel_requested(store, execution_id):
            task.cancel()
            return
        polls += 1
        if polls % polls_per_renewal == 0:
            await renew_lease(store, execution_id)
