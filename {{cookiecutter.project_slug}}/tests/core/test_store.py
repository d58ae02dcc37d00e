"""The in-process key-value store: expiry and atomic claims (event logs: test_event_log)."""

from __future__ import annotations

import pytest

from app.core.store import Increment, MemoryStore


class FakeClock:
    """Monotonic seconds that move only when a test says so, so expiry needs no sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock: FakeClock) -> MemoryStore:
    return MemoryStore(clock=clock)


async def test_set_get_delete(store: MemoryStore) -> None:
    assert await store.get("k") is None
    await store.set("k", "v")
    assert await store.get("k") == "v"
    await store.set("k", "w")
    assert await store.get("k") == "w"
    await store.delete("k")
    assert await store.get("k") is None
    await store.delete("k")


async def test_get_many_reads_each_key_in_order(store: MemoryStore, clock: FakeClock) -> None:
    await store.set("a", "1")
    await store.set("brief", "2", ttl_seconds=5)
    clock.now += 10
    assert await store.get_many(["a", "missing", "brief"]) == ["1", None, None]


async def test_add_sets_only_when_absent(store: MemoryStore) -> None:
    assert await store.add("k", "first") is True
    assert await store.add("k", "second") is False
    assert await store.get("k") == "first"


async def test_keys_expire_after_their_ttl(store: MemoryStore, clock: FakeClock) -> None:
    await store.set("short", "v", ttl_seconds=10)
    await store.set("forever", "v")
    clock.now += 9.9
    assert await store.get("short") == "v"
    clock.now += 0.2
    assert await store.get("short") is None
    assert await store.get("forever") == "v"


async def test_add_succeeds_again_once_the_key_expired(
    store: MemoryStore, clock: FakeClock
) -> None:
    assert await store.add("k", "1", ttl_seconds=5)
    clock.now += 6
    assert await store.add("k", "2", ttl_seconds=5)
    assert await store.get("k") == "2"


async def test_expired_keys_are_evicted_without_being_read(
    store: MemoryStore, clock: FakeClock
) -> None:
    for i in range(100):
        await store.set(f"k{i}", "v", ttl_seconds=1)
    assert len(store) == 100
    clock.now += 2
    await store.set("fresh", "v", ttl_seconds=60)
    assert len(store) == 1


async def test_renewing_a_ttl_is_not_undone_by_the_old_expiry(
    store: MemoryStore, clock: FakeClock
) -> None:
    await store.set("lease", "1", ttl_seconds=10)
    clock.now += 8
    await store.set("lease", "1", ttl_seconds=10)
    clock.now += 5
    await store.set("other", "v")
    assert await store.get("lease") == "1"


async def test_a_key_set_without_ttl_outlives_its_earlier_expiry(
    store: MemoryStore, clock: FakeClock
) -> None:
    await store.set("k", "1", ttl_seconds=1)
    await store.set("k", "2")
    clock.now += 5
    await store.set("other", "v")
    assert await store.get("k") == "2"


async def test_ping_and_close(store: MemoryStore) -> None:
    await store.set("k", "v", ttl_seconds=60)
    assert await store.ping() is True
    await store.close()
    assert await store.get("k") is None
    assert len(store) == 0


async def test_deleting_an_event_log_forgets_its_events(store: MemoryStore) -> None:
    await store.append_event("log", "1-1", "first", ttl_seconds=60)

    await store.delete("log")

    assert await store.read_events("log", "0-0", wait_seconds=0) == []


async def test_increments_apply_together_or_not_at_all() -> None:
    now = [0.0]
    store = MemoryStore(clock=lambda: now[0])
    first = await store.increment_within(
        [Increment("a", 5, 10, ttl_seconds=60), Increment("b", 5, None, ttl_seconds=60)]
    )
    refused = await store.increment_within(
        [Increment("b", 1, None, ttl_seconds=60), Increment("a", 6, 10, ttl_seconds=60)]
    )
    released = await store.increment_within([Increment("a", -3, 0, ttl_seconds=60)])

    assert (first, refused, released) == (None, 1, None)
    assert await store.get_many(["a", "b"]) == ["2", "5"]
    now[0] = 61.0
    assert await store.get_many(["a", "b"]) == [None, None]
