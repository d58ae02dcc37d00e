"""A run from request to outcome: prepared, launched, followed, cancelled, resumed.

`RunManager` is the one object the API talks to. It stores a run before it starts,
launches it as a durable workflow (here, or queued for a worker), records its outcome
whatever happens (answer, error, cancel), leaves a run cut short by a shutdown or a crash
to be resumed from its last step, and answers for runs of other processes through the
shared store.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.ai.providers.base import ChatMessage, ProviderError
from app.ai.providers.factory import ProviderFactory
from app.ai.runs import cancellation, durable, events, metering, persistence
from app.ai.runs.events import EventSink, RunEvent
from app.ai.runs.following import RunFollower
from app.ai.runs.loop import AgentLoop, MaxIterationsError, UnrepeatableToolError
from app.ai.runs.types import PreparedRun, RunTally
from app.ai.tools.manager import ToolManager
from app.ai.tools.registry import ToolRegistry
from app.core.bounded import quietly, settle
from app.core.config import Settings
from app.core.errors import ServiceUnavailableError, UnprocessableError
from app.core.outages import OUTAGE_ERRORS
from app.core.store import KeyValueStore, StoreUnavailableError
from app.db.session import Database
from app.db.types import utc_now
from app.models import Agent, Execution, ExecutionStatus

logger = structlog.get_logger(__name__)

# Waits between attempts to record a run's outcome while the database is unreachable.
OUTCOME_RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0)
# What a client at capacity is told to wait.
RETRY_AFTER_SECONDS = 2


class RunManager:
    """Prepares, runs and cancels executions; one instance per application."""

    def __init__(
        self,
        *,
        settings: Settings,
        database: Database,
        store: KeyValueStore,
        providers: ProviderFactory,
        tools: ToolRegistry,
        tool_manager: ToolManager,
    ) -> None:
        self.settings = settings
        # Runs queue for the database rather than fail in a burst (see `for_background`).
        self.database = database.for_background()
        self.store = store
        self.providers = providers
        self.tools = tools
        self.tool_manager = tool_manager
        self._agent_loop = AgentLoop(
            settings=settings,
            database=self.database,
            providers=providers,
            tools=tools,
            tool_manager=tool_manager,
        )
        # Launches awaited here, and the workflow bodies this process is executing.
        self._tasks: dict[uuid.UUID, asyncio.Task[Execution]] = {}
        self._bodies: dict[uuid.UUID, asyncio.Task[Any]] = {}
        self._launching: dict[uuid.UUID, tuple[PreparedRun, EventSink]] = {}
        self._results: dict[uuid.UUID, Execution] = {}
        self._follower = RunFollower(database=self.database, store=store, is_live=self._is_live)
        self._reserved = 0
        self._stopping = False

    async def start(self) -> None:
        """Join the process's run engine: runs started or queued from here become durable."""
        await durable.acquire(self.settings, self)

    def check_config(self, *, provider: str, tools: Iterable[str]) -> None:
        """Refuse a provider that is unknown or unconfigured, or a tool that does not exist."""
        self.providers.get(provider)
        unknown = sorted(set(tools) - set(self.tools.names()))
        if unknown:
            raise UnprocessableError(f"Unknown tools: {', '.join(unknown)}")

    def check_runnable(self, agent: Agent) -> None:
        """Refuse, before anything is stored, an agent that could not run."""
        if not agent.is_active:
            raise UnprocessableError("This agent is disabled")
        self.check_config(provider=agent.provider, tools=agent.tools or ())

    async def prepare(
        self,
        *,
        user_id: uuid.UUID,
        agent: Agent,
        message: str,
        conversation_id: uuid.UUID | None = None,
        prior_messages: Sequence[ChatMessage] = (),
        session: AsyncSession | None = None,
    ) -> PreparedRun:
        """Store the user's message and a pending execution, committed before the run starts.

        Given the request's `session`, the run is stored in its transaction, which is then
        committed: the request needs no second connection. A worker already running its
        limit of runs refuses at once (503), before storing anything; otherwise a place is
        held for the run until `launch` starts it.
        """
        self.check_runnable(agent)
        self._reserve()
        fields: dict[str, Any] = {
            "user_id": user_id,
            "agent": agent,
            "message": message,
            "conversation_id": conversation_id,
            "prior_messages": prior_messages,
        }
        try:
            if session is None:
                async with self.database.transaction() as own:
                    return await self._store_pending(own, **fields)
            prepared = await self._store_pending(session, **fields)
            await session.commit()
            return prepared
        except BaseException:
            self._reserved -= 1
            raise

    async def _store_pending(self, session: AsyncSession, **fields: Any) -> PreparedRun:
        """The stored run, leased so that no sweep takes it for an orphan."""
        prepared = await persistence.store_pending_run(session, **fields)
        # Leased before it is visible, so another process's start-up sweep spares it.
        await cancellation.renew_lease(
            self.store, prepared.execution_id, self.settings.run_lease_seconds
        )
        return prepared

    @property
    def in_flight(self) -> int:
        """Runs this worker is running or about to start."""
        return len(self._tasks.keys() | self._bodies.keys()) + self._reserved

    def _reserve(self) -> None:
        """Hold a place for one more run, or refuse when this worker is at its limit."""
        if self.in_flight >= self.settings.max_concurrent_runs:
            raise ServiceUnavailableError(
                "Too many runs in progress; try again shortly", retry_after=RETRY_AFTER_SECONDS
            )
        self._reserved += 1

    def launch(
        self, prepared: PreparedRun, *, sink: EventSink = events.discard, stream: bool = False
    ) -> asyncio.Task[Execution]:
        """Start the run as a durable workflow; the task ends with it, in its final state.

        The workflow is its own task, so it survives a client that disconnects. With
        `RUN_ROLE=api` it is queued for a worker and followed through the store instead.
        """
        self._reserved = max(0, self._reserved - 1)
        execution_id = prepared.execution_id
        self._launching[execution_id] = (prepared, sink)
        task = asyncio.create_task(self._launched(prepared, stream=stream))
        self._tasks[execution_id] = task

        def forget(_: object) -> None:
            self._tasks.pop(execution_id, None)
            self._launching.pop(execution_id, None)
            self._results.pop(execution_id, None)

        task.add_done_callback(forget)
        return task

    async def _launched(self, prepared: PreparedRun, *, stream: bool) -> Execution:
        """The execution once its workflow, here or on a worker, has ended."""
        execution_id = prepared.execution_id
        if self.settings.run_role == "api":
            return await self._queued(prepared, stream=stream)
        handle = await durable.start(self, execution_id, stream=stream)
        await handle.get_result()
        return self._results[execution_id]

    async def _queued(self, prepared: PreparedRun, *, stream: bool) -> Execution:
        """Queue the run for a worker and pass its events on until it ends."""
        execution_id = prepared.execution_id
        _, sink = self._launching.pop(execution_id)
        await durable.enqueue(execution_id, stream=stream)
        async for event in self.follow(execution_id, owner_id=prepared.user_id):
            await sink(event)
        execution = await persistence.read_execution(
            self.database, execution_id, owner_id=prepared.user_id
        )
        assert execution is not None
        return execution

    async def run_workflow(self, execution_id: uuid.UUID, *, stream: bool) -> str:
        """The workflow's body: load the run (recorded), run it, and leave the result here."""
        task = asyncio.current_task()
        assert task is not None
        self._bodies[execution_id] = task
        try:
            prepared = await durable.step("load_run", self._prepared, execution_id)
            if prepared is None:
                return "missing"  # deleted (with its agent or user) before it could run
            launching = self._launching.pop(execution_id, None)
            sink = launching[1] if launching is not None else events.discard
            execution = await self.run(prepared, sink=sink, stream=stream)
        finally:
            self._bodies.pop(execution_id, None)
        if execution_id in self._tasks:
            self._results[execution_id] = execution
        return execution.status.value

    async def _prepared(self, execution_id: uuid.UUID) -> PreparedRun | None:
        """The run as launched here, or as stored when another process launched it."""
        launching = self._launching.get(execution_id)
        if launching is not None:
            return launching[0]
        return await persistence.load_prepared(self.database, execution_id)

    async def cancel(
        self, execution_id: uuid.UUID, *, owner_id: uuid.UUID, wait_seconds: float = 5.0
    ) -> Execution:
        """Stop a run wherever it is: here at once, elsewhere through the shared flag.

        A run in this process is awaited (briefly) so the answer shows it cancelled.
        """
        body = self._bodies.get(execution_id)
        await cancellation.request_cancel(self.store, execution_id)
        if body is not None:
            body.cancel()
            await settle(asyncio.shield(body), wait_seconds)
            if body.cancelled():
                await persistence.record_never_started(
                    self.database, execution_id, owner_id=owner_id
                )
        elif await self._unowned(execution_id):
            # No process runs it (never begun, queued, or its own died): nobody else would
            # record the cancel, and the engine must not start or resume it later.
            await durable.cancel(execution_id)
            await persistence.record_never_started(self.database, execution_id, owner_id=owner_id)
        execution = await persistence.read_execution(self.database, execution_id, owner_id=owner_id)
        assert execution is not None
        return execution

    async def _unowned(self, execution_id: uuid.UUID) -> bool:
        """Whether no process is executing the run: its workflow has not begun, or is lost."""
        if not await cancellation.has_live_lease(self.store, execution_id):
            return True
        return await durable.state_of(execution_id) in (None, "ENQUEUED")

    def task_of(self, execution_id: uuid.UUID) -> asyncio.Task[Any] | None:
        """The task executing the run in this process, if it runs here."""
        return self._bodies.get(execution_id)

    async def shutdown(self) -> None:
        """Give this process's runs a bounded time to end, then leave the rest to resume.

        A run still going after `shutdown_timeout_seconds` is stopped without an outcome:
        its workflow stays pending, and this process on restart, or another one once its
        lease lapses, resumes it from its last completed step.
        """
        self._stopping = True
        bodies = dict(self._bodies)
        if bodies:
            await asyncio.wait(bodies.values(), timeout=self.settings.shutdown_timeout_seconds)
        for execution_id, body in bodies.items():
            if not body.done():
                logger.warning("execution_left_to_resume", execution_id=str(execution_id))
                body.cancel()
        if bodies:
            await asyncio.wait(bodies.values(), timeout=self.settings.shutdown_timeout_seconds)
        for task in list(self._tasks.values()):
            task.cancel()
        durable.release(self)

    async def sweep_orphans(self) -> int:
        """Resume runs a dead process left (their lease has lapsed); fail what cannot resume.

        Only a run whose workflow the engine has already ended is failed: its outcome's
        write was lost, and there is nothing left to run.
        """

        async def is_live(execution_id: uuid.UUID) -> bool:
            if execution_id in self._bodies or execution_id in self._tasks:
                return True
            if await cancellation.has_live_lease(self.store, execution_id):
                return True
            if self.settings.run_role == "api":
                return await durable.state_of(execution_id) in durable.ACTIVE_STATES
            resumed = await durable.resume(execution_id)
            if resumed:
                logger.warning("execution_resumed", execution_id=str(execution_id))
            return resumed

        swept = await persistence.fail_orphans(self.database, is_live=is_live)
        if swept:
            logger.warning("executions_swept", count=swept)
        return swept

    async def run(
        self, prepared: PreparedRun, *, sink: EventSink = events.discard, stream: bool = False
    ) -> Execution:
        """Run to the end and return the execution in its final state.

        Whatever happens the outcome is written (retried while the database is away) and the
        final event is sent, so no stream is left without an end and no row stays running.
        """
        started = time.perf_counter()
        tally = RunTally()
        cancel_seen = asyncio.Event()
        sink = self._broadcasting(prepared.execution_id, sink, cancel_seen)
        with metering.observe_run(prepared) as observed:
            outcome = await self._outcome(prepared, sink, tally, cancel_seen, stream=stream)
            observed.finish(tally, outcome["status"])
        outcome |= {
            "input_tokens": tally.usage.input_tokens,
            "output_tokens": tally.usage.output_tokens,
            "cost": tally.cost,
            "finished_at": utc_now(),
            "duration_ms": round((time.perf_counter() - started) * 1000, 3),
        }
        finishing = asyncio.ensure_future(self._finish(prepared, sink, tally, outcome))
        return await _to_the_end(finishing)

    async def _outcome(
        self,
        prepared: PreparedRun,
        sink: EventSink,
        tally: RunTally,
        cancel_seen: asyncio.Event,
        *,
        stream: bool,
    ) -> dict[str, Any]:
        """Run the agent loop under the cancel watcher and the run's deadline; how it ended."""
        seconds = self.settings.run_timeout_seconds
        deadline = asyncio.timeout(seconds)
        try:
            history = await durable.step("record_start", persistence.start, self.database, prepared)
            await sink(events.started_event(prepared))
            watched = cancellation.watched(
                self.store,
                prepared.execution_id,
                cancel_seen,
                lease_seconds=self.settings.run_lease_seconds,
            )
            async with watched, deadline:
                output = await self._agent_loop.run(prepared, history, sink, tally, stream=stream)
            return {"status": ExecutionStatus.COMPLETED, "output": output}
        except asyncio.CancelledError:
            if self._stopping and not cancel_seen.is_set():
                raise  # a shutdown: the workflow stays pending, to be resumed
            _uncancel()
            return persistence.failure(
                ExecutionStatus.CANCELLED, "cancelled", "Cancelled by request"
            )
        except TimeoutError:
            if not deadline.expired():
                return self._crashed(prepared)
            return persistence.failure(
                ExecutionStatus.FAILED, "deadline", f"The run did not finish within {seconds:g}s"
            )
        except ProviderError as exc:
            return persistence.failure(
                ExecutionStatus.FAILED, f"provider.{exc.kind.value}", str(exc)
            )
        except MaxIterationsError as exc:
            return persistence.failure(ExecutionStatus.FAILED, "max_iterations", str(exc))
        except UnrepeatableToolError as exc:
            return persistence.failure(ExecutionStatus.FAILED, "tool_interrupted", str(exc))
        except OUTAGE_ERRORS as exc:
            # The cause goes to the log; the user is told what to do, not where it broke.
            logger.warning(
                "execution_dependency_failed",
                execution_id=str(prepared.execution_id),
                error=repr(exc),
            )
            return persistence.failure(
                ExecutionStatus.FAILED,
                "unavailable",
                "A service the run depends on was unavailable; try again shortly",
            )
        except Exception:
            return self._crashed(prepared)

    def _crashed(self, prepared: PreparedRun) -> dict[str, Any]:
        """An unexpected error, logged with its traceback (never stored: it may quote SQL)."""
        logger.exception("execution_crashed", execution_id=str(prepared.execution_id))
        return persistence.failure(
            ExecutionStatus.FAILED, "internal_error", persistence.internal_error_message()
        )

    async def _finish(
        self, prepared: PreparedRun, sink: EventSink, tally: RunTally, outcome: dict[str, Any]
    ) -> Execution:
        """Write the outcome, retrying while the database is away, then send the final event.

        The lease is held meanwhile, or a sweep during the retries would take the run for an
        orphan and record it as interrupted in place of its outcome.
        """
        execution_id = prepared.execution_id
        renewal = cancellation.renew_lease(
            self.store, execution_id, self.settings.run_lease_seconds
        )
        await quietly(renewal, cancellation.STORE_CALL_SECONDS, what="lease renewal")
        try:
            execution = await durable.step(
                "record_outcome", self._write_outcome, prepared, tally, outcome
            )
        finally:
            release = cancellation.release_lease(self.store, execution_id)
            await quietly(release, cancellation.STORE_CALL_SECONDS, what="lease release")
        await sink(events.final_event(execution))
        return execution

    async def _write_outcome(
        self, prepared: PreparedRun, tally: RunTally, outcome: dict[str, Any]
    ) -> Execution:
        """The stored execution; after the last retry, the unstored one the sweep will fail."""
        for delay in (*OUTCOME_RETRY_DELAYS, None):
            try:
                return await persistence.finish(self.database, prepared, tally.draft, outcome)
            except OUTAGE_ERRORS as exc:
                logger.warning(
                    "execution_outcome_write_failed",
                    execution_id=str(prepared.execution_id),
                    error=repr(exc),
                    retry_in=delay,
                )
            if delay is not None:
                await asyncio.sleep(delay)
        logger.error("execution_outcome_lost", execution_id=str(prepared.execution_id))
        return persistence.unrecorded(prepared, outcome)

    def _broadcasting(
        self, execution_id: uuid.UUID, sink: EventSink, cancel_seen: asyncio.Event
    ) -> EventSink:
        """Send each event to the caller and to the store's channel for followers elsewhere.

        Each event before the final one is also a point where a cancelled run stops, should
        its cancellation have been lost inside a store call.
        """
        channel = events.channel_for(execution_id)
        fan_out = True

        async def emit(event: RunEvent) -> None:
            nonlocal fan_out
            if cancel_seen.is_set() and event.name not in events.FINAL_EVENTS:
                raise asyncio.CancelledError
            await sink(event)
            if not fan_out:
                return
            try:
                await self.store.publish(channel, events.encode(event))
            except StoreUnavailableError as exc:
                # Followers elsewhere miss the rest; the run and its own stream carry on.
                fan_out = False
                logger.warning(
                    "execution_events_unpublished", execution_id=str(execution_id), error=str(exc)
                )

        return emit

    def follow(self, execution_id: uuid.UUID, *, owner_id: uuid.UUID) -> AsyncIterator[RunEvent]:
        """The events of a run from now on, whichever process runs it; its outcome if it ended."""
        return self._follower.follow(execution_id, owner_id=owner_id)

    async def _is_live(self, execution_id: uuid.UUID) -> bool:
        """Whether some process runs it (this one, or one holding its lease) or will."""
        if execution_id in self._tasks or execution_id in self._bodies:
            return True
        if await cancellation.has_live_lease(self.store, execution_id):
            return True
        return await durable.state_of(execution_id) in durable.ACTIVE_STATES


async def _to_the_end(task: asyncio.Future[Execution]) -> Execution:
    """Await the outcome write even through a cancellation: it is bounded, and it must land."""
    while True:
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.cancelled():
                raise
            _uncancel()


def _uncancel() -> None:
    """Clear the pending cancel so the outcome can still be written."""
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()
