"""Waiting for a condition under a deadline, never for a fixed time.

A fixed sleep is either too short on a slow machine (a flaky test) or too long on a
fast one (a slow suite); polling a condition returns as soon as it holds.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any

POLL_SECONDS = 0.01
DEADLINE_SECONDS = 5.0


async def wait_for(
    condition: Callable[[], bool | Awaitable[bool]],
    *,
    message: str | Callable[[], str] = "",
    deadline_seconds: float = DEADLINE_SECONDS,
    poll_seconds: float = POLL_SECONDS,
) -> None:
    """Poll `condition` (plain or async) until it is true; fail after `deadline_seconds`.

    `message` may be a function, called only on failure (to attach a process's log, say).
    """
    deadline = time.monotonic() + deadline_seconds
    while True:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if time.monotonic() >= deadline:
            why = message() if callable(message) else message
            raise AssertionError(f"not true within {deadline_seconds}s: {why or condition}")
        await asyncio.sleep(poll_seconds)


def wait_until(condition: Callable[[], bool], *, timeout: float = 5.0, message: str = "") -> None:
    """The blocking twin of `wait_for`, for code outside the event loop (threads, servers)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            raise AssertionError(f"not true within {timeout}s: {message or condition}")
        time.sleep(POLL_SECONDS)


def suspended_in(task: asyncio.Task[Any], function: str) -> bool:
    """True while `task` is parked inside a coroutine called `function` (e.g. `sleep`)."""
    awaited: Any = task.get_coro()
    while awaited is not None:
        code = getattr(awaited, "cr_code", None)
        if code is not None and code.co_name == function:
            return True
        awaited = getattr(awaited, "cr_await", None)
    return False
