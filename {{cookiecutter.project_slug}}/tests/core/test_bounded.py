"""Bounded waits hold even against work that ignores its cancellation."""

from __future__ import annotations

import asyncio
import time

from app.core.bounded import quietly, settle


async def _ignores_cancellation(release: asyncio.Event) -> str:
    """Swallows the first cancel, as some network clients do inside a socket read."""
    try:
        await asyncio.sleep(30)
    except asyncio.CancelledError:
        await release.wait()
    return "late"


async def test_settle_returns_in_time_when_the_task_swallows_its_cancel() -> None:
    release = asyncio.Event()
    task = asyncio.create_task(_ignores_cancellation(release))
    await asyncio.sleep(0)

    started = time.monotonic()
    ended = await settle(task, 0.1)

    assert not ended
    assert time.monotonic() - started < 1.0
    release.set()
    assert await task == "late"


async def test_settle_reports_a_task_that_ends_in_time() -> None:
    task = asyncio.create_task(asyncio.sleep(0, result="done"))
    assert await settle(task, 1.0)
    assert task.result() == "done"


async def test_quietly_gives_the_result_or_none_and_never_raises() -> None:
    async def fail() -> int:
        raise ConnectionError("refused")

    assert await quietly(asyncio.sleep(0, result=7), 1.0, what="answer") == 7
    assert await quietly(fail(), 1.0, what="failure") is None
    assert await quietly(asyncio.sleep(30, result="late"), 0.05, what="stall") is None


async def test_a_cancelled_caller_takes_its_work_down_with_it() -> None:
    work = asyncio.create_task(asyncio.sleep(30))
    caller = asyncio.create_task(settle(work, 30))
    await asyncio.sleep(0.01)

    caller.cancel()
    await asyncio.gather(caller, return_exceptions=True)
    await asyncio.gather(work, return_exceptions=True)

    assert work.cancelled()
