"""What a run reports as it goes: the SSE event names and their JSON payloads."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class RunEvent:
    """One event of a run; `name` is the SSE event field, `data` its JSON body."""

    name: str
    data: dict[str, Any]


EXECUTION_STARTED = "execution.started"
MESSAGE_DELTA = "message.delta"
TOOL_CALL = "tool.call"
TOOL_RESULT = "tool.result"
EXECUTION_COMPLETED = "execution.completed"
EXECUTION_FAILED = "execution.failed"
FINAL_EVENTS = frozenset({EXECUTION_COMPLETED, EXECUTION_FAILED})

EventSink = Callable[[RunEvent], Awaitable[None]]


async def discard(_event: RunEvent) -> None:
    """The sink for runs nobody is streaming."""
