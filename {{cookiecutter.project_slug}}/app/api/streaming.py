"""Bridging a run's events to a Server-Sent Events response."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable

from sse_starlette import EventSourceResponse, ServerSentEvent

from app.ai.runs import PreparedRun, RunManager, events
from app.ai.runs.events import RunEvent

EventEncoder = Callable[[RunEvent], ServerSentEvent | None]


def encode_run_event(event: RunEvent) -> ServerSentEvent:
    """The service's own event format: the event name plus a JSON body."""
    return ServerSentEvent(data=json.dumps(event.data), event=event.name)


def follow_run(
    runs: RunManager, execution_id: uuid.UUID, *, owner_id: uuid.UUID, ping_seconds: float
) -> EventSourceResponse:
    """Relay the events of a run started elsewhere (another request, worker or replica)."""

    async def relay() -> AsyncIterator[ServerSentEvent]:
        async for event in runs.follow(execution_id, owner_id=owner_id):
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
