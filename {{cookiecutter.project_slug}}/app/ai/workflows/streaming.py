"""A workflow run's event stream: its stored events, with its agent steps' deltas between.

The workflow's own events are rows, polled and numbered; the text an agent step streams
is read from that step's run event log in the store, forwarded as `agent.delta` between
the step's `step.started` and `step.completed`. Deltas carry no id: a client resuming
with `Last-Event-ID` inside a step gets that step's deltas again from its start.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import suppress
from dataclasses import dataclass

import structlog

from app.ai.runs import events as run_events
from app.ai.workflows import records
from app.core.event_log import START
from app.core.store import KeyValueStore, StoreUnavailableError
from app.crud import workflow as workflow_crud
from app.db.session import Database
from app.models import StepStatus

logger = structlog.get_logger(__name__)

# How often a stream looks for workflow events past the last one it sent.
EVENT_POLL_SECONDS = 0.25
# How long one read of a step's run log waits for its next delta.
DELTA_WAIT_SECONDS = 1.0
# How long a finished step's deltas may take to drain before its completion is sent.
DRAIN_SECONDS = 5.0
AGENT_DELTA = "agent.delta"
STEP_ENDED = frozenset({"step.completed", "step.failed"})


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """One event to send: its name, JSON data, and its id (None for a delta)."""

    name: str
    data: dict[str, object]
    id: int | None = None

    def encoded(self) -> str:
        """The data as the SSE `data` field carries it."""
        return json.dumps(self.data)


class WorkflowEventStream:
    """Merges a workflow run's stored events with its running agent steps' deltas."""

    def __init__(self, database: Database, store: KeyValueStore, run_id: uuid.UUID) -> None:
        self._database = database
        self._store = store
        self._run_id = run_id
        self._deltas: asyncio.Queue[StreamEvent] = asyncio.Queue()
        self._followers: dict[str, asyncio.Task[None]] = {}
        self._followed: set[str] = set()

    async def events(self, after: int) -> AsyncIterator[StreamEvent]:
        """Every event past `after`, live ones as they happen, until the run's final one."""
        try:
            if after:
                await self._follow_running_steps()
            while True:
                async with self._database.transaction() as session:
                    found = await workflow_crud.events_after(
                        session, run_id=self._run_id, after=after
                    )
                for row in found:
                    after = row.sequence
                    event = StreamEvent(row.name, dict(row.data), row.sequence)
                    async for delta in self._before(event):
                        yield delta
                    yield event
                    if event.name in records.FINAL_EVENTS:
                        return
                    if event.name == "step.started":
                        self._follow_step(event)
                if not found:
                    async for delta in self._deltas_within(EVENT_POLL_SECONDS):
                        yield delta
        finally:
            await self._stop_following()

    async def _follow_running_steps(self) -> None:
        """On a resumed stream, the agent steps already running: their deltas from the start."""
        async with self._database.transaction() as session:
            found = await workflow_crud.step_records(session, run_id=self._run_id)
        for record in found:
            if record.status is StepStatus.RUNNING and record.execution_id is not None:
                started = {
                    "step": record.step_id,
                    "iteration": record.iteration,
                    "execution_id": str(record.execution_id),
                }
                self._follow_step(StreamEvent("step.started", started))

    async def _before(self, event: StreamEvent) -> AsyncIterator[StreamEvent]:
        """The deltas due before `event`: all of a finished step's, else those queued.

        A step that started before a resumed stream's first event is read here in full.
        """
        execution_id = event.data.get("execution_id")
        if event.name in STEP_ENDED and isinstance(execution_id, str):
            self._follow_step(event)
            follower = self._followers.pop(execution_id, None)
            if follower is not None:
                done, _ = await asyncio.wait({follower}, timeout=DRAIN_SECONDS)
                if not done:
                    follower.cancel()
        async for delta in self._drained():
            yield delta

    async def _deltas_within(self, seconds: float) -> AsyncIterator[StreamEvent]:
        """The deltas that arrive within `seconds` of quiet between polls."""
        if not self._followers:
            await asyncio.sleep(seconds)
            return
        try:
            first = await asyncio.wait_for(self._deltas.get(), timeout=seconds)
        except TimeoutError:
            return
        yield first
        async for delta in self._drained():
            yield delta

    async def _stop_following(self) -> None:
        """Cancel every follower still reading a log."""
        followers = list(self._followers.values())
        self._followers.clear()
        for follower in followers:
            follower.cancel()
        for follower in followers:
            with suppress(asyncio.CancelledError):
                await follower

    async def _drained(self) -> AsyncIterator[StreamEvent]:
        """Deltas queued so far."""
        while not self._deltas.empty():
            yield self._deltas.get_nowait()

    def _follow_step(self, started: StreamEvent) -> None:
        """Forward the deltas of the agent run a step launched, once per stream."""
        execution_id = started.data.get("execution_id")
        if not isinstance(execution_id, str) or execution_id in self._followed:
            return
        self._followed.add(execution_id)
        step = {key: started.data[key] for key in ("step", "iteration") if key in started.data}
        self._followers[execution_id] = asyncio.create_task(
            self._forward(uuid.UUID(execution_id), step | {"execution_id": execution_id})
        )

    async def _forward(self, execution_id: uuid.UUID, step: dict[str, object]) -> None:
        """Queue each text delta of the run's log until the run's final event."""
        log = run_events.log_for(execution_id)
        after = START
        while True:
            try:
                entries = await self._store.read_events(log, after, wait_seconds=DELTA_WAIT_SECONDS)
            except StoreUnavailableError as exc:
                logger.warning("workflow_deltas_unreadable", log=log, error=str(exc))
                return
            for entry in entries:
                after = entry.id
                event = run_events.decode(entry)
                if event.name == run_events.MESSAGE_DELTA:
                    data = step | {"text": event.data.get("text", "")}
                    self._deltas.put_nowait(StreamEvent(AGENT_DELTA, data))
                elif event.name in run_events.FINAL_EVENTS:
                    return
