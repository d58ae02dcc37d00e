"""The cancel watcher: it stops on an event, in bounded time, whatever the store does."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
import uuid

from app.ai.runs import cancellation
from app.ai.runs.cancellation import LEASE_PREFIX, STOP_WAIT_SECONDS, watched
from app.core.store import MemoryStore


class StallingStore(MemoryStore):
    """Its `get` stalls until released and ignores cancellation meanwhile.

    That is what redis-py 8 does when a cancel lands inside a socket read; the watcher
    must not depend on the store giving up.
    """

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def get(self, key: str) -> str | None:
        """Wait for `release`, swallowing every cancellation on the way."""
        while not self.release.is_set():
            with contextlib.suppress(asyncio.CancelledError):
                await self.release.wait()
        return await super().get(key)


async def test_leaving_the_block_is_bounded_when_the_store_never_answers() -> None:
    store = StallingStore()
    execution_id = uuid.uuid4()
    started = time.monotonic()
    try:
        async with watched(store, execution_id):
            await asyncio.sleep(0.5)  # the watcher is now stuck in a cancel check
        elapsed = time.monotonic() - started
        assert elapsed < 0.5 + STOP_WAIT_SECONDS + 1.0
        assert f"{LEASE_PREFIX}{execution_id}" not in store._items
    finally:
        store.release.set()


async def test_a_cancel_flag_stops_the_block() -> None:
    store = MemoryStore()
    execution_id = uuid.uuid4()
    await cancellation.request_cancel(store, execution_id)

    async def body() -> None:
        async with watched(store, execution_id):
            await asyncio.sleep(30)

    task = asyncio.create_task(body())
    done, _ = await asyncio.wait({task}, timeout=2.0)

    assert done
    assert task.cancelled()
    assert not await cancellation.has_live_lease(store, execution_id)


async def test_a_swallowed_cancel_is_delivered_again() -> None:
    store = MemoryStore()
    execution_id = uuid.uuid4()
    await cancellation.request_cancel(store, execution_id)
    swallowed = 0

    async def body() -> None:
        nonlocal swallowed
        async with watched(store, execution_id):
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                swallowed += 1  # lost, as inside a library that eats it
            await asyncio.sleep(30)

    task = asyncio.create_task(body())
    done, _ = await asyncio.wait({task}, timeout=5.0)

    assert done, "the run kept going after its cancel was swallowed"
    assert task.cancelled()
    assert swallowed == 1


class SlowStore(MemoryStore):
    """Every cancel check takes a second, as on a busy event loop; renewals are timed."""

    def __init__(self) -> None:
        super().__init__()
        self.renewed_at: list[float] = []

    async def get(self, key: str) -> str | None:
        """Answer after a second."""
        await asyncio.sleep(1.0)
        return await super().get(key)

    async def set(self, key: str, value: str, *, ttl_seconds: int | None = None) -> None:
        """Note when the lease is renewed."""
        if key.startswith(LEASE_PREFIX):
            self.renewed_at.append(time.monotonic())
        await super().set(key, value, ttl_seconds=ttl_seconds)


async def test_the_lease_is_renewed_in_time_when_each_poll_is_slow() -> None:
    store = SlowStore()
    lease_seconds = 1.5  # stored for 2 s; renewed every 0.5 s by the clock

    async with watched(store, uuid.uuid4(), lease_seconds=lease_seconds):
        await asyncio.sleep(5.0)

    gaps = [later - earlier for earlier, later in itertools.pairwise(store.renewed_at)]
    assert len(gaps) >= 3
    assert max(gaps) < max(1, round(lease_seconds)), gaps
