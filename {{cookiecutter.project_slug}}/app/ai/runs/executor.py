"""One run from its first step to its stored outcome, whatever ends it.

`RunExecutor.run` drives the agent loop under the cancel watcher and the run's deadline,
turns every way a run can end (answer, provider error, cancel, deadline, outage, crash)
into one outcome, writes it (retried while the database is away) and sends the final
event, so no stream is left without an end and no row stays running. A shutdown is the
exception: the run stops without an outcome, and its workflow resumes elsewhere.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import Callable
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.ai.budgets import ERROR_TYPE as BUDGET_EXCEEDED
from app.ai.budgets import BudgetExceededError
from app.ai.guardrails.base import GuardrailBlockedError
from app.ai.providers.base import ProviderError
from app.ai.runs import cancellation, durable, event_ids, events, metering, outcomes, persistence
from app.ai.runs.events import EventSink, RunEvent
from app.ai.runs.history import History
from app.ai.runs.loop import AgentLoop, MaxIterationsError, UnrepeatableToolError
from app.ai.runs.types import PreparedRun, RunTally
from app.core.bounded import quietly
from app.core.config import Settings
from app.core.outages import OUTAGE_ERRORS
from app.core.store import KeyValueStore, StoreUnavailableError
from app.db.session import Database
from app.db.types import utc_now
from app.models import Execution, ExecutionStatus

logger = structlog.get_logger(__name__)

# Waits between attempts to record a run's outcome while the database is unreachable.
OUTCOME_RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0)


class RunExecutor:
    """Runs prepared runs to their outcome; `stopping` says when the process is shutting down."""

    def __init__(
        self,
        *,
        settings: Settings,
        database: Database,
        store: KeyValueStore,
        agent_loop: AgentLoop,
        stopping: Callable[[], bool],
    ) -> None:
        self.settings = settings
        self.database = database
        self.store = store
        self._agent_loop = agent_loop
        self._stopping = stopping
        # Written with every outcome, in its transaction (see `RunManager.on_outcome`).
        self.outcome_hooks: list[outcomes.OutcomeHook] = []

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
        with event_ids.numbering() as position:
            sink = self._broadcasting(prepared.execution_id, sink, cancel_seen, position)
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
            # Leased from the first step: a run still waiting for a connection to record its
            # start must not look abandoned to another process's sweep.
            watched = cancellation.watched(
                self.store,
                prepared.execution_id,
                cancel_seen,
                lease_seconds=self.settings.run_lease_seconds,
            )
            async with watched, deadline:
                history = await self._start(prepared)
                await sink(events.started_event(prepared))
                output = await self._agent_loop.run(prepared, history, sink, tally, stream=stream)
            return {"status": ExecutionStatus.COMPLETED, "output": output}
        except asyncio.CancelledError:
            if self._stopping() and not cancel_seen.is_set():
                raise  # a shutdown: the workflow stays pending, to be resumed
            _uncancel()
            return outcomes.failure(ExecutionStatus.CANCELLED, "cancelled", "Cancelled by request")
        except TimeoutError:
            if not deadline.expired():
                return self._crashed(prepared)
            return outcomes.failure(
                ExecutionStatus.FAILED, "deadline", f"The run did not finish within {seconds:g}s"
            )
        except ProviderError as exc:
            return outcomes.failure(ExecutionStatus.FAILED, f"provider.{exc.kind.value}", str(exc))
        except BudgetExceededError as exc:
            return outcomes.failure(ExecutionStatus.FAILED, BUDGET_EXCEEDED, str(exc))
        except MaxIterationsError as exc:
            return outcomes.failure(ExecutionStatus.FAILED, "max_iterations", str(exc))
        except UnrepeatableToolError as exc:
            return outcomes.failure(ExecutionStatus.FAILED, "tool_interrupted", str(exc))
        except GuardrailBlockedError as exc:
            return outcomes.failure(ExecutionStatus.FAILED, "guardrail_blocked", str(exc))
        except OUTAGE_ERRORS as exc:
            # The cause goes to the log; the user is told what to do, not where it broke.
            logger.warning(
                "execution_dependency_failed",
                execution_id=str(prepared.execution_id),
                error=repr(exc),
            )
            return outcomes.failure(
                ExecutionStatus.FAILED,
                "unavailable",
                "A service the run depends on was unavailable; try again shortly",
            )
        except Exception:
            return self._crashed(prepared)

    async def _start(self, prepared: PreparedRun) -> History:
        """Mark the run running: recorded when it reads its history, which later steps extend."""
        if prepared.records_start:
            return await durable.step("record_start", persistence.start, self.database, prepared)
        return await durable.repeatable_step(persistence.start, self.database, prepared)

    def _crashed(self, prepared: PreparedRun) -> dict[str, Any]:
        """An unexpected error, logged with its traceback (never stored: it may quote SQL)."""
        logger.exception("execution_crashed", execution_id=str(prepared.execution_id))
        return outcomes.failure(
            ExecutionStatus.FAILED, "internal_error", outcomes.internal_error_message()
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
            # Only a run's first outcome is stored, so a resumed run that writes it again
            # gets the stored one back: the write needs no record of its own.
            execution = await durable.repeatable_step(self._write_outcome, prepared, tally, outcome)
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
                return await outcomes.finish(
                    self.database, prepared, tally.draft, outcome, self._on_finished
                )
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
        return outcomes.unrecorded(prepared, outcome)

    async def _on_finished(
        self, session: AsyncSession, prepared: PreparedRun, execution: Execution
    ) -> None:
        """Let each outcome hook write beside the outcome."""
        for hook in self.outcome_hooks:
            await hook(session, prepared, execution)

    def _broadcasting(
        self,
        execution_id: uuid.UUID,
        sink: EventSink,
        cancel_seen: asyncio.Event,
        position: event_ids.RunPosition,
    ) -> EventSink:
        """Number each event, send it to the caller and append it to the run's event log.

        The log is what followers elsewhere and reconnecting clients read. Each event before
        the final one is also a point where a cancelled run stops, should its cancellation
        have been lost inside a store call.
        """
        log = events.log_for(execution_id)
        retention = self.settings.run_events_retention_seconds
        fan_out = True

        async def emit(event: RunEvent) -> None:
            nonlocal fan_out
            if cancel_seen.is_set() and event.name not in events.FINAL_EVENTS:
                raise asyncio.CancelledError
            event_id = position.next_id(event_ids.current_step())
            event = dataclasses.replace(event, id=event_id)
            await sink(event)
            if not fan_out:
                return
            try:
                await self.store.append_event(
                    log, event_id, events.encode(event), ttl_seconds=retention
                )
            except StoreUnavailableError as exc:
                # Followers elsewhere see the outcome only; the run and its own stream go on.
                fan_out = False
                logger.warning(
                    "execution_events_unlogged", execution_id=str(execution_id), error=str(exc)
                )

        return emit


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
