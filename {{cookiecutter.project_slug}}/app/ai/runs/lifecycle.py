"""A run from request to outcome: prepared, launched, followed, cancelled, resumed.

`RunManager` is the one object the API talks to. It stores a run before it starts,
launches it as a durable workflow (here, or queued for a worker), records its outcome
whatever happens (answer, error, cancel), leaves a run cut short by a shutdown or a crash
to be resumed from its last step, and answers for runs of other processes through the
shared store.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from functools import partial
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.ai.budgets import BudgetLedger, CallBudgets
from app.ai.providers.base import ChatMessage
from app.ai.providers.factory import ProviderFactory
from app.ai.runs import cancellation, durable, events, orphans, outcomes, persistence
from app.ai.runs.events import EventSink, RunEvent
from app.ai.runs.executor import RunExecutor
from app.ai.runs.following import RunFollower
from app.ai.runs.loop import AgentLoop
from app.ai.runs.types import UNRECORDED_ORGANIZATION, PreparedRun
from app.ai.tools.manager import ToolManager
from app.ai.tools.registry import ToolRegistry
from app.core.bounded import quietly, settle
from app.core.config import Settings
from app.core.errors import ServiceUnavailableError, UnprocessableError
from app.core.event_log import START
from app.core.store import KeyValueStore
from app.db.session import Database
from app.models import Agent, Execution

logger = structlog.get_logger(__name__)

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
        ledger: BudgetLedger | None = None,
    ) -> None:
        """`ledger` counts budgets' usage in `store` unless one is given (with its own clock)."""
        self.settings = settings
        # Runs queue for the database rather than fail in a burst (see `for_background`).
        self.database = database.for_background()
        self.store = store
        self.providers = providers
        self.tools = tools
        self.tool_manager = tool_manager
        self.ledger = ledger or BudgetLedger(store)
        agent_loop = AgentLoop(
            settings=settings,
            database=self.database,
            providers=providers,
            tools=tools,
            tool_manager=tool_manager,
            budgets=CallBudgets(settings=settings, database=self.database, ledger=self.ledger),
        )
        self._executor = RunExecutor(
            settings=settings,
            database=self.database,
            store=store,
            agent_loop=agent_loop,
            stopping=lambda: self._stopping,
        )
        # Launches awaited here, and the workflow bodies this process is executing.
        self._tasks: dict[uuid.UUID, asyncio.Task[Execution]] = {}
        self._bodies: dict[uuid.UUID, asyncio.Task[Any]] = {}
        self._sinks: dict[uuid.UUID, EventSink] = {}
        self._results: dict[uuid.UUID, Execution] = {}
        # Launched here and begun: their bodies hold the lease from then on.
        self._begun: set[uuid.UUID] = set()
        is_live = partial(orphans.is_live, store, here=self._runs_here)
        self._follower = RunFollower(database=self.database, store=store, is_live=is_live)
        self._reserved = 0
        self._stopping = False

    async def start(self) -> None:
        """Join the process's run engine: runs started or queued from here become durable."""
        await durable.acquire(self.settings, self)

    def check_config(self, *, provider: str, tools: Iterable[str]) -> None:
        """Refuse a provider that is unknown or unconfigured, or a tool that does not exist."""
        self.providers.get(provider)
        unknown = sorted(name for name in set(tools) if not self.tools.offers(name))
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
        self._sinks[execution_id] = sink
        task = asyncio.create_task(self._launched(prepared, stream=stream))
        self._tasks[execution_id] = task

        def forget(_: object) -> None:
            self._tasks.pop(execution_id, None)
            self._sinks.pop(execution_id, None)
            self._results.pop(execution_id, None)
            self._begun.discard(execution_id)

        task.add_done_callback(forget)
        return task

    async def _launched(self, prepared: PreparedRun, *, stream: bool) -> Execution:
        """The execution once its workflow, here or on a worker, has ended."""
        execution_id = prepared.execution_id
        if self.settings.run_role == "api":
            return await self._queued(prepared, stream=stream)
        keeper = asyncio.create_task(self._lease_until_begun(execution_id))
        try:
            handle = await durable.start(self, prepared, stream=stream)
            await handle.get_result()
        finally:
            keeper.cancel()
        # Absent when the engine had already run this workflow: the stored row is its outcome.
        return self._results.pop(execution_id, None) or await self._stored(prepared)

    async def _lease_until_begun(self, execution_id: uuid.UUID) -> None:
        """Renew the lease taken at `prepare` until the workflow's body holds its own.

        A launch waiting for the engine (its database, under a burst) must not look
        abandoned to another process's sweep, which would start the run a second time.
        """
        seconds = self.settings.run_lease_seconds
        while True:
            await asyncio.sleep(seconds / 3)
            if execution_id in self._begun:
                return
            renewal = cancellation.renew_lease(self.store, execution_id, seconds)
            await quietly(renewal, cancellation.STORE_CALL_SECONDS, what="lease renewal")

    async def _queued(self, prepared: PreparedRun, *, stream: bool) -> Execution:
        """Queue the run for a worker and pass its events on until it ends."""
        execution_id = prepared.execution_id
        sink = self._sinks.pop(execution_id)
        await durable.enqueue(prepared, stream=stream)
        async for event in self.follow(execution_id, organization_id=prepared.organization_id):
            await sink(event)
        return await self._stored(prepared)

    async def _stored(self, prepared: PreparedRun) -> Execution:
        """The run's execution as stored."""
        execution = await persistence.read_execution(
            self.database, prepared.execution_id, organization_id=prepared.organization_id
        )
        assert execution is not None
        return execution

    def on_outcome(self, hook: outcomes.OutcomeHook) -> None:
        """Have `hook` write beside every run's outcome, in the same transaction."""
        self._executor.outcome_hooks.append(hook)

    async def run_workflow(self, prepared: PreparedRun, *, stream: bool) -> dict[str, Any]:
        """The workflow's body: run the run here, and leave the result for its launch.

        Its outcome is the workflow's result, which a workflow running it as a step reads.
        """
        execution_id = prepared.execution_id
        if prepared.organization_id == UNRECORDED_ORGANIZATION:
            prepared = await persistence.with_recorded_organization(self.database, prepared)
        task = asyncio.current_task()
        assert task is not None
        self._bodies[execution_id] = task
        if execution_id in self._tasks:
            self._begun.add(execution_id)
        try:
            sink = self._sinks.pop(execution_id, events.discard)
            execution = await self.run(prepared, sink=sink, stream=stream)
        finally:
            self._bodies.pop(execution_id, None)
        if execution_id in self._tasks:
            self._results[execution_id] = execution
        return outcomes.outcome_of(execution)

    async def cancel(
        self,
        execution_id: uuid.UUID,
        *,
        organization_id: uuid.UUID | None,
        wait_seconds: float = 5.0,
    ) -> Execution:
        """Stop a run wherever it is: here at once, elsewhere through the shared flag.

        A run in this process is awaited (briefly) so the answer shows it cancelled.
        `organization_id` is the run's (checked by the caller), or None when the service
        cancels a run it started itself, such as a workflow's step.
        """
        body = self._bodies.get(execution_id)
        await cancellation.request_cancel(self.store, execution_id)
        if body is not None:
            body.cancel()
            await settle(asyncio.shield(body), wait_seconds)
            if body.cancelled():
                await outcomes.record_never_started(
                    self.database, execution_id, organization_id=organization_id
                )
        elif await orphans.is_unowned(self.store, execution_id):
            # No process runs it (never begun, queued, or its own died): nobody else would
            # record the cancel, and the engine must not start or resume it later.
            await durable.cancel(execution_id)
            await outcomes.record_never_started(
                self.database, execution_id, organization_id=organization_id
            )
        execution = await persistence.read_execution(
            self.database, execution_id, organization_id=organization_id
        )
        assert execution is not None
        return execution

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
        """Resume runs a dead process left (their lease has lapsed); fail what cannot resume."""
        return await orphans.sweep(self.database, self.store, here=self._runs_here)

    async def run(
        self, prepared: PreparedRun, *, sink: EventSink = events.discard, stream: bool = False
    ) -> Execution:
        """Run to the end in this task and return the execution in its final state."""
        return await self._executor.run(prepared, sink=sink, stream=stream)

    def follow(
        self, execution_id: uuid.UUID, *, organization_id: uuid.UUID, after: str = START
    ) -> AsyncIterator[RunEvent]:
        """The run's events after the id `after` (all by default), wherever it runs; its outcome."""
        return self._follower.follow(execution_id, organization_id=organization_id, after=after)

    def _runs_here(self, execution_id: uuid.UUID) -> bool:
        """Whether this process launched the run and awaits it, or executes it."""
        return execution_id in self._tasks or execution_id in self._bodies
