"""A run's events: they cross the store intact, and the last one says how the run ended."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest

from app.ai.providers.base import ToolCall
from app.ai.runs import events
from app.ai.runs.events import RunEvent
from app.ai.runs.history import to_chat_message
from app.core.event_log import LogEntry
from app.models import Execution, ExecutionStatus, Message, MessageRole


def ended(status: ExecutionStatus, **fields: object) -> Execution:
    """An execution in a final state, as the run manager leaves it."""
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "conversation_id": uuid.uuid4(),
        "status": status,
        "output": None,
        "error_type": None,
        "error_message": None,
        "input_tokens": 12,
        "output_tokens": 3,
        "cost": Decimal("0.000150"),
        "duration_ms": 8.5,
    }
    return Execution(**(values | fields))


def test_an_event_survives_the_trip_through_the_store() -> None:
    event = RunEvent(
        events.TOOL_RESULT, {"call_id": "c1", "content": "ünïcode ✓", "nested": {"a": [1, 2]}}
    )

    logged = events.decode(LogEntry("3-1", events.encode(event)))

    assert logged == RunEvent(event.name, event.data, id="3-1")


@pytest.mark.parametrize(
    ("status", "name"),
    [
        (ExecutionStatus.COMPLETED, events.EXECUTION_COMPLETED),
        (ExecutionStatus.FAILED, events.EXECUTION_FAILED),
        (ExecutionStatus.CANCELLED, events.EXECUTION_FAILED),
    ],
)
def test_only_a_completed_run_ends_with_execution_completed(
    status: ExecutionStatus, name: str
) -> None:
    event = events.final_event(ended(status))

    assert event.name == name
    assert event.name in events.FINAL_EVENTS
    assert event.data["status"] == status.value


def test_the_final_event_carries_the_outcome_as_plain_json() -> None:
    execution = ended(
        ExecutionStatus.CANCELLED, error_type="cancelled", error_message="Cancelled by request"
    )

    data = json.loads(json.dumps(events.final_event(execution).data))

    assert data["execution_id"] == str(execution.id)
    assert data["conversation_id"] == str(execution.conversation_id)
    assert data["error_type"] == "cancelled"
    assert data["error_message"] == "Cancelled by request"
    assert data["cost"] == "0.000150"
    assert (data["input_tokens"], data["output_tokens"]) == (12, 3)


def test_a_stored_tool_call_reads_back_as_the_call_the_model_made() -> None:
    call = ToolCall(id="c7", name="calculator", arguments={"expression": "6*7"})
    stored = Message(
        role=MessageRole.ASSISTANT,
        content="",
        tool_calls=[events.tool_call_payload(call)],
        tool_call_id=None,
        name=None,
    )

    assert to_chat_message(stored).tool_calls == (call,)
