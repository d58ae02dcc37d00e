"""Event logs in memory: ordered ids, replays ignored, readers woken, logs expired."""

from __future__ import annotations

import asyncio

import pytest

from app.core.event_log import START, LogEntry, MemoryEventLogs, is_valid_id, parse_id


class Clock:
    """Monotonic seconds the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def logs(clock: Clock) -> MemoryEventLogs:
    return MemoryEventLogs(clock=clock)


async def test_a_reader_gets_the_entries_after_the_id_it_names(logs: MemoryEventLogs) -> None:
    for entry_id in ("3-1", "4-1", "4-2", "5-1"):
        assert logs.append("run", entry_id, f"event {entry_id}", ttl_seconds=60)

    everything = await logs.read("run", START, wait_seconds=0, limit=100)
    after = await logs.read("run", "4-1", wait_seconds=0, limit=100)
    first_two = await logs.read("run", START, wait_seconds=0, limit=2)

    assert [entry.id for entry in everything] == ["3-1", "4-1", "4-2", "5-1"]
    assert after == [LogEntry("4-2", "event 4-2"), LogEntry("5-1", "event 5-1")]
    assert [entry.id for entry in first_two] == ["3-1", "4-1"]


async def test_ids_compare_as_numbers_not_text(logs: MemoryEventLogs) -> None:
    logs.append("run", "9-1", "nine", ttl_seconds=60)
    logs.append("run", "10-1", "ten", ttl_seconds=60)

    assert [entry.id for entry in await logs.read("run", "9-1", wait_seconds=0, limit=9)] == [
        "10-1"
    ]


async def test_an_event_sent_again_is_ignored(logs: MemoryEventLogs) -> None:
    assert logs.append("run", "3-1", "started", ttl_seconds=60)
    assert logs.append("run", "4-1", "delta", ttl_seconds=60)

    assert not logs.append("run", "3-1", "started again", ttl_seconds=60)
    assert not logs.append("run", "4-1", "delta again", ttl_seconds=60)
    assert logs.append("run", "4-2", "new delta", ttl_seconds=60)

    messages = [entry.message for entry in await logs.read("run", START, wait_seconds=0, limit=9)]
    assert messages == ["started", "delta", "new delta"]


async def test_a_waiting_reader_wakes_when_an_entry_arrives(logs: MemoryEventLogs) -> None:
    reader = asyncio.create_task(logs.read("run", START, wait_seconds=30, limit=9))
    await asyncio.sleep(0)
    assert not reader.done()

    logs.append("run", "3-1", "started", ttl_seconds=60)

    assert await asyncio.wait_for(reader, 5) == [LogEntry("3-1", "started")]


async def test_a_wait_with_nothing_new_ends_empty(logs: MemoryEventLogs) -> None:
    logs.append("run", "3-1", "started", ttl_seconds=60)

    assert await logs.read("run", "3-1", wait_seconds=0.01, limit=9) == []


async def test_logs_are_kept_for_their_time_after_the_last_entry(
    logs: MemoryEventLogs, clock: Clock
) -> None:
    logs.append("old", "3-1", "started", ttl_seconds=60)
    logs.append("busy", "3-1", "started", ttl_seconds=60)
    clock.now += 50
    logs.append("busy", "4-1", "delta", ttl_seconds=60)
    clock.now += 20

    assert await logs.read("old", START, wait_seconds=0, limit=9) == []
    assert len(await logs.read("busy", START, wait_seconds=0, limit=9)) == 2
    logs.append("another", "3-1", "started", ttl_seconds=60)
    assert len(logs) == 2, "the expired log is dropped, not only hidden"


def test_event_ids_are_two_integers() -> None:
    assert parse_id("12-3") == (12, 3)
    assert is_valid_id("0-0")
    for bad in ("", "7", "7-", "-3", "a-1", "1-2-3", " 1-2", "1_2", "1" * 19 + "-1"):
        assert not is_valid_id(bad), bad
        with pytest.raises(ValueError, match="not an event id"):
            parse_id(bad)
