"""Bridging a run's events to a Server-Sent Events response, resumable by `Last-Event-ID`."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import Depends, Header
from fastapi.exceptions import RequestValidationError
from sse_starlette import EventSourceResponse, ServerSentEvent

from app.ai.runs import PreparedRun, RunManager, events
from app.ai.runs.events import RunEvent
from app.core.event_log import START, is_valid_id

EventEncoder = Callable[[RunEvent], ServerSentEvent | None]
LAST_EVENT_ID_HEADER = "Last-Event-ID"


async def last_event_id(
    value: Annotated[
        str | None,
        Header(
            alias=LAST_EVENT_ID_HEADER,
            description=(
                "The `id` of the last event received: the stream resumes after it. "
                "Browsers' EventSource sends it by itself when it reconnects."
            ),
            json_schema_extra={"pattern": r"^[0-9]{1,18}-[0-9]{1,18}$"},
            examples=["7-3"],
        ),
    ] = None,
) -> str:
    """Where a stream resumes: after the event the client names, else from the run's start."""
    if value is None:
        return START
    if not is_valid_id(value):
        raise RequestValidationError(
            [
                {
                    "type": "last_event_id_invalid",
                    "loc": ("header", LAST_EVENT_ID_HEADER),
                    "msg": f"{LAST_EVENT_ID_HEADER} must be an event id this service sent, "
                    "such as 7-3",
                }
            ]
        )
    return value


LastEventIdDep = Annotated[str, Depends(last_event_id)]


def encode_run_event(event: RunEvent) -> ServerSentEvent:
    """The service's own event format: the event name, a JSON body and the event's id."""
    return ServerSentEvent(data=json.dumps(event.data), event=event.name, id=event.id)


def follow_run(
    runs: RunManager,
    execution_id: uuid.UUID,
    *,
    organization_id: uuid.UUID,
    ping_seconds: float,
    after: str = START,
) -> EventSourceResponse:
    """Relay a run's events after `after`, however far along it is, then its outcome."""

    async def relay() -> AsyncIterator[ServerSentEvent]:
        async for event in runs.follow(execution_id, organization_id=organization_id, after=after):
            yield encode_run_event(event)

    return EventSourceResponse(relay(), ping=ping_seconds)


def stream_run(
    runs: RunManager,
    prepared: PreparedRun,
    *,
    ping_seconds: float,
    encode: EventEncoder = encode_run_event,
    closing: ServerSentEvent | None = None,
) -> EventSourceResponse:
    """Launch the run and relay its events as they happen, with keep-alive pings.

    The run is its own task: a client that goes away stops the stream, not the run,
    which still stores its messages and outcome.
    """
    queue: asyncio.Queue[RunEvent | None] = asyncio.Queue()
    task = runs.launch(prepared, sink=queue.put, stream=True)
    task.add_done_callback(lambda _: queue.put_nowait(None))

    async def relay() -> AsyncIterator[ServerSentEvent]:
        while (event := await queue.get()) is not None:
            encoded = encode(event)
            if encoded is not None:
                yield encoded
            if event.name in events.FINAL_EVENTS:
                break
        if closing is not None:
            yield closing

    return EventSourceResponse(relay(), ping=ping_seconds)
