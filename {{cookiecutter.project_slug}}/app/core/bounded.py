"""Waiting on work for a bounded time without trusting `Task.cancel()` to stop it.

A library that swallows a cancellation (some network clients do, inside a socket read)
would make `asyncio.timeout` or `wait_for` wait without end. These helpers run the work as
its own task and stop *waiting* when time is up: the caller always moves on in time,
whatever the work does with its cancellation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

import structlog

logger = structlog.get_logger(__name__)

T = TypeVar("T")


async def settle(task: asyncio.Future[Any], seconds: float) -> bool:
    """Wait up to `seconds` for `task`; then ask it to stop and return at once.

    True when the task ended within the time. A caller cancelled while waiting cancels
    the task too, so no work outlives the one that asked for it.
    """
    try:
        done, _ = await asyncio.wait({task}, timeout=seconds)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if not done:
        task.cancel()
    return bool(done)


async def quietly(awaitable: Awaitable[T], seconds: float, *, what: str) -> T | None:
    """The result of `awaitable`, or None when it failed or took longer than `seconds`.

    For best-effort side work (renewing a lease, releasing it, fanning out an event) that
    must neither raise into the caller nor hold it up; failures are logged under `what`.
    """
    task = asyncio.ensure_future(awaitable)
    if not await settle(task, seconds):
        logger.warning("bounded_call_timed_out", what=what, seconds=seconds)
        task.add_done_callback(_retrieve)
        return None
    if task.cancelled():
        return None
    error = task.exception()
    if error is not None:
        logger.warning("bounded_call_failed", what=what, error=repr(error))
        return None
    return task.result()


def _retrieve(task: asyncio.Future[Any]) -> None:
    """Collect an abandoned task's outcome so asyncio does not report it as lost."""
    if not task.cancelled():
        task.exception()
