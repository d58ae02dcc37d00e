"""A run from request to outcome: prepared, launched, followed, cancelled, swept.

`RunManager` is the one object the API talks to. It stores a run before it starts,
launches it as its own task, records its outcome whatever happens (answer, error,
cancel, shutdown), and answers for runs of other processes through the shared store.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

import structlog

from app.ai.providers.base import ChatMessage, ProviderError
from app.ai.providers.factory import ProviderFactory
from app.ai.runs import cancellation, events, persistence
from app.ai.runs.events import EventSink, RunEvent
from app.ai.runs.loop import AgentLoop, MaxIterationsError
from app.ai.runs.types import PreparedRun, RunTally
from app.ai.tools.manager import ToolManager
from app.ai.tools.registry import ToolRegistry
from app.core.config import Settings
from app.core.errors import UnprocessableError
from app.core.store import KeyValueStore
from app.db.session import Database
from app.db.types import utc_now
from app.models import Agent, Execution, ExecutionStatus

logger = structlog.get_logger(__name__)


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
        self.database = database
        self.store = store
        self.providers = providers
        self.tools = tools
        self.tool_manager = tool_manager
        self._agent_loop = AgentLoop(
            settings=settings,
            database=database,
            providers=providers,
            tools=tools,
            tool_manager=tool_manager,
        )
        self._tasks: dict[uuid.UUID, asyncio.Task[Execution]] = {}

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
    ) -> PreparedRun:
        """Store the user's message and a pending execution, committed before the run starts."""
        self.check_runnable(agent)
        async with self.database.transaction() as session:
            prepared = await persistence.store_pending_run(
                session,
                user_id=user_id,
                agent=agent,
                message=message,
                conversation_id=conversation_id,
                prior_messages=prior_messages,
            )
            # Leased before it is visible, so another process's start-up sweep spares it.
            await cancellation.renew_lease(self.store, prepared.execution_id)
        return prepared

    def launch(
        self, prepared: PreparedRun, *, sink: EventSink = events.discard, stream: bool = False
    ) -> asyncio.Task[Execution]:
        """Start the run as its own task, so it survives a client that disconnects."""
        task = asyncio.create_task(self.run(prepared, sink=sink, stream=stream))
        self._tasks[prepared.execution_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(prepared.execution_id, None))
        return task

    async def cancel(
        self, execution_id: uuid.UUID, *, owner_id: uuid.UUID, wait_seconds: float = 5.0
    ) -> Execution:
        """Stop a run wherever it is: here at once, elsewhere through the shared flag.

        A run in this process is awaited (briefly) so the answer shows it cancelled.
        """
        task = self._tasks.get(execution_id)
        await cancellation.request_cancel(self.store, execution_id)
        if task is not None:
            task.cancel()
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(task), wait_seconds)
            if task.cancelled():
                await persistence.record_never_started(
                    self.database, execution_id, owner_id=owner_id
                )
        execution = await persistence.read_execution(self.database, execution_id, owner_id=owner_id)
        assert execution is not None
        return execution

    async def shutdown(self) -> None:
        """Cancel this process's runs and wait until each has recorded its outcome."""
        running = list(self._tasks.items())
        for _, task in running:
            task.cancel()
        await asyncio.gather(*(task for _, task in running), return_exceptions=True)
        for execution_id, task in running:
            if task.cancelled():
                await persistence.record_never_started(self.database, execution_id, owner_id=None)

    async def sweep_orphans(self) -> int:
        """Fail executions left running by a process that died (their lease has lapsed)."""

        async def is_live(execution_id: uuid.UUID) -> bool:
            return await cancellation.has_live_lease(self.store, execution_id)

        swept = await persistence.fail_orphans(self.database, is_live=is_live)
        if swept:
            logger.warning("executions_swept", count=swept)
        return swept

    async def run(
        self, prepared: PreparedRun, *, sink: EventSink = events.discard, stream: bool = False
    ) -> Execution:
        """Run to the end and return the execution in its final state."""
        started = time.perf_counter()
        tally = RunTally()
        sink = self._broadcasting(prepared.execution_id, sink)
        outcome: dict[str, Any]
        try:
            await persistence.update_execution(
                self.database, prepared, status=ExecutionStatus.RUNNING, started_at=utc_now()
            )
            await sink(events.started_event(prepared))
            async with cancellation.watched(self.store, prepared.execution_id):
                output = await self._agent_loop.run(prepared, sink, tally, stream=stream)
            outcome = {"status": ExecutionStatus.COMPLETED, "output": output}
        except asyncio.CancelledError:
            _uncancel()
            outcome = persistence.failure(
                ExecutionStatus.CANCELLED, "cancelled", "Cancelled by request"
            )
        except ProviderError as exc:
            outcome = persistence.failure(
                ExecutionStatus.FAILED, f"provider.{exc.kind.value}", str(exc)
            )
        except MaxIterationsError as exc:
            outcome = persistence.failure(ExecutionStatus.FAILED, "max_iterations", str(exc))
        except Exception:
            # The exception may quote SQL and its parameters: the log keeps it, with the
            # request id, and the stored error only points there.
            logger.exception("execution_crashed", execution_id=str(prepared.execution_id))
            outcome = persistence.failure(
                ExecutionStatus.FAILED, "internal_error", persistence.internal_error_message()
            )
        execution = await asyncio.shield(
            persistence.update_execution(
                self.database,
                prepared,
                **outcome,
                input_tokens=tally.usage.input_tokens,
                output_tokens=tally.usage.output_tokens,
                cost=tally.cost,
                finished_at=utc_now(),
                duration_ms=round((time.perf_counter() - started) * 1000, 3),
            )
        )
        await sink(events.final_event(execution))
        return execution

    def _broadcasting(self, execution_id: uuid.UUID, sink: EventSink) -> EventSink:
        """Send each event to the caller and to the store's channel for followers elsewhere."""
        channel = events.channel_for(execution_id)

        async def emit(event: RunEvent) -> None:
            await sink(event)
            await self.store.publish(channel, events.encode(event))

        return emit

    async def follow(
        self, execution_id: uuid.UUID, *, owner_id: uuid.UUID
    ) -> AsyncIterator[RunEvent]:
        """The events of a run from now on, whichever process runs it; its outcome if it ended.

        The subscription starts before the status is read, so a run that ends in between
        is still seen ending.
        """
        async with self.store.subscribe(events.channel_for(execution_id)) as messages:
            execution = await persistence.read_execution(
                self.database, execution_id, owner_id=owner_id
            )
            if execution is None:
                return
            if execution.status.is_final:
                yield events.final_event(execution)
                return
            async for message in messages:
                event = events.decode(message)
                yield event
                if event.name in events.FINAL_EVENTS:
                    return


def _uncancel() -> None:
    """Clear the pending cancel so the outcome can still be written."""
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()
