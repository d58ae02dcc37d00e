"""What a run reports as it goes: the SSE event names and their JSON payloads."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from app.ai.providers.base import ToolCall
from app.ai.runs.types import PreparedRun
from app.ai.tools.manager import ToolResult
from app.core.event_log import LogEntry
from app.models import Execution, ExecutionStatus


@dataclass(frozen=True, slots=True)
class RunEvent:
    """One event of a run; `name` is the SSE event field, `data` its JSON body.

    `id` orders the run's events (see `event_ids`); a client resumes after the last it saw.
    """

    name: str
    data: dict[str, Any]
    id: str | None = None


EXECUTION_STARTED = "execution.started"
MESSAGE_DELTA = "message.delta"
TOOL_CALL = "tool.call"
TOOL_RESULT = "tool.result"
EXECUTION_COMPLETED = "execution.completed"
EXECUTION_FAILED = "execution.failed"
FINAL_EVENTS = frozenset({EXECUTION_COMPLETED, EXECUTION_FAILED})

EventSink = Callable[[RunEvent], Awaitable[None]]


def log_for(execution_id: uuid.UUID) -> str:
    """The store's event log that keeps one execution's events."""
    return f"execution-events:{execution_id}"


def encode(event: RunEvent) -> str:
    """The event as one log entry's message; the entry's id is the event's."""
    return json.dumps({"name": event.name, "data": event.data})


def decode(entry: LogEntry) -> RunEvent:
    """The event a follower reads back from the log."""
    body = json.loads(entry.message)
    return RunEvent(name=str(body["name"]), data=dict(body["data"]), id=entry.id)


async def discard(_event: RunEvent) -> None:
    """The sink for runs nobody is streaming."""


def started_event(prepared: PreparedRun) -> RunEvent:
    """The first event of a run: the ids a client needs to follow or look it up."""
    return RunEvent(
        EXECUTION_STARTED,
        {
            "execution_id": str(prepared.execution_id),
            "conversation_id": str(prepared.conversation_id),
        },
    )


def execution_summary(execution: Execution) -> dict[str, Any]:
    """The JSON body of the final event: enough to render the outcome without a second call."""
    return {
        "execution_id": str(execution.id),
        "conversation_id": str(execution.conversation_id),
        "status": execution.status.value,
        "output": execution.output,
        "error_type": execution.error_type,
        "error_message": execution.error_message,
        "input_tokens": execution.input_tokens,
        "output_tokens": execution.output_tokens,
        "cost": str(execution.cost),
        "duration_ms": execution.duration_ms,
    }


def final_event_name(execution: Execution) -> str:
    """Completed runs end with `execution.completed`; failed and cancelled ones do not."""
    if execution.status is ExecutionStatus.COMPLETED:
        return EXECUTION_COMPLETED
    return EXECUTION_FAILED


def final_event(execution: Execution) -> RunEvent:
    """The last event of a run, built from its Execution row in its final state."""
    return RunEvent(final_event_name(execution), execution_summary(execution))


def tool_call_payload(call: ToolCall) -> dict[str, Any]:
    """A tool call as JSON: the `tool.call` event body and the stored assistant message's form."""
    return {"id": call.id, "name": call.name, "arguments": call.arguments}


def tool_result_payload(result: ToolResult) -> dict[str, Any]:
    """A tool's outcome as the `tool.result` event body."""
    return {
        "call_id": result.call_id,
        "name": result.name,
        "content": result.content,
        "is_error": result.is_error,
        "duration_ms": result.duration_ms,
    }
