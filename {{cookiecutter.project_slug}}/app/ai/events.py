"""What a run reports as it goes: the SSE event names and their JSON payloads."""

from __future__ import annotations

import json
import uuid
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


def channel_for(execution_id: uuid.UUID) -> str:
    """The publish/subscribe channel that carries one execution's events."""
    return f"execution-events:{execution_id}"


def encode(event: RunEvent) -> str:
    return json.dumps({"name": event.name, "data": event.data})


def decode(message: str) -> RunEvent:
    body = json.loads(message)
    return RunEvent(name=str(body["name"]), data=dict(body["data"]))


async def discard(_event: RunEvent) -> None:
    """The sink for runs nobody is streaming."""
