"""Workflow runs as durable DBOS workflows: launched, leased, resumed, decided, cancelled.

A run is the workflow `workflow_run` keyed by the run's id. Its agent steps are agent runs
started as child workflows, and its approvals wait with `DBOS.recv`, so a run can wait
for days holding no connection and go on in another process after a crash: the sweep
resumes a run whose lease has lapsed, from its last recorded step.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import structlog
from dbos import DBOS, Queue, SetWorkflowID, WorkflowHandleAsync
from sqlalchemy.ext.asyncio import AsyncSession

from app.ai.runs import PreparedRun, RunManager, cancellation, durable, persistence
from app.ai.runs.types import WorkflowStepRef
from app.ai.workflows import records
from app.ai.workflows.graph import StepGraph
from app.ai.workflows.walk import CANCEL_MESSAGE, STEPS, RunEndedError, Walk, approval_topic
from app.core.bounded import settle
from app.core.outages import OUTAGE_ERRORS
from app.core.sweeping import sweep_until_stopped
from app.crud import workflow as workflow_crud
from app.models import WorkflowRun, WorkflowRunStatus
from app.schemas.workflow import AgentStep

logger = structlog.get_logger(__name__)

QUEUE_NAME = "workflow-runs"
WORKFLOW_NAME = "workflow_run"
SWEEP_LOCK_KEY = "workflow-sweep-lock"
STOP_WAIT_SECONDS = 5.0


@dataclass
class _Registry:
    """The engines in this process: the one that resumes runs, and who launched which."""

    primary: WorkflowEngine | None = None
    launched_here: dict[str, WorkflowEngine] = field(default_factory=dict)


_registry = _Registry()


@DBOS.workflow(name=WORKFLOW_NAME)
async def workflow_run(run_id: str) -> str:
    """The durable run: every write is a recorded step, every wait a durable one."""
    engine = _registry.launched_here.pop(run_id, None) or _registry.primary
    if engine is None:
        raise RuntimeError("No application in this process executes workflows")
    return await engine.execute(uuid.UUID(run_id))


class WorkflowEngine:
    """Starts, executes, sweeps and cancels workflow runs; one per application."""

    def __init__(self, runs: RunManager) -> None:
        self.runs = runs
        # A step's agent run stores the step's outcome with its own.
        runs.on_outcome(records.record_agent_outcome)
        self.settings = runs.settings
        self.database = runs.database
        self.store = runs.store
        self._queue: Queue | None = None
        self._bodies: dict[uuid.UUID, asyncio.Task[Any]] = {}
        self._stop = asyncio.Event()
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Register the queue and, where runs execute, sweep; after the run manager starts."""
        self._queue = await DBOS.register_queue_async(
            QUEUE_NAME, polling_interval_sec=self.settings.run_queue_poll_seconds
        )
        if _registry.primary is None:
            _registry.primary = self
        if self.settings.run_role != "api":
            # Only processes that execute runs sweep: one serving the API alone must not
            # hold the sweep lock that a worker needs.
            self._sweeper = asyncio.create_task(
                sweep_until_stopped(
                    self.store,
                    name="workflow",
                    lock_key=SWEEP_LOCK_KEY,
                    interval=self.settings.sweep_interval_seconds,
                    sweep=self.sweep,
                    stop=self._stop,
                )
            )

    async def shutdown(self) -> None:
        """Stop sweeping and leave runs in progress to resume; before the run manager stops."""
        self._stop.set()
        if self._sweeper is not None:
            await settle(self._sweeper, STOP_WAIT_SECONDS)
        for body in list(self._bodies.values()):
            body.cancel()
        if self._bodies:
            await asyncio.wait(list(self._bodies.values()), timeout=STOP_WAIT_SECONDS)
        if _registry.primary is self:
            _registry.primary = None
        for run_id, engine in list(_registry.launched_here.items()):
            if engine is self:
                del _registry.launched_here[run_id]

    async def launch(self, run_id: uuid.UUID) -> None:
        """Run it here now, or queue it for a worker when this process only serves the API."""
        await cancellation.renew_lease(self.store, run_id, self.settings.run_lease_seconds)
        with SetWorkflowID(str(run_id)):
            if self.settings.run_role == "api":
                assert self._queue is not None, "start() first"
                await self._queue.enqueue_async(workflow_run, str(run_id))
            else:
                _registry.launched_here[str(run_id)] = self
                await DBOS.start_workflow_async(workflow_run, str(run_id))

    async def execute(self, run_id: uuid.UUID) -> str:
        """The workflow's body, leased while it runs here; the run's final status."""
        task = asyncio.current_task()
        assert task is not None
        self._bodies[run_id] = task
        lease = asyncio.create_task(self._hold_lease(run_id))
        try:
            return await self._drive(run_id)
        finally:
            lease.cancel()
            self._bodies.pop(run_id, None)
            with contextlib.suppress(*OUTAGE_ERRORS):
                await cancellation.release_lease(self.store, run_id)

    async def _drive(self, run_id: uuid.UUID) -> str:
        state = await durable.step("workflow_begin", records.begin_run, self.database, run_id)
        if state is None:
            return "final"
        walk = Walk(
            run_id=run_id,
            owner_id=state["owner_id"],
            graph=StepGraph(STEPS.validate_python(state["steps"])),
            database=self.database,
            prepare=self._prepare_agent,
            launch=self._launch_agent,
        )
        outcome: dict[str, Any]
        try:
            output = await walk.run(state["input"])
            outcome = {"status": WorkflowRunStatus.COMPLETED, "output": output}
        except RunEndedError as ended:
            outcome = {
                "status": ended.status,
                "error_type": ended.error_type,
                "error_message": ended.message,
            }
        # Only the first outcome is stored, so a resumed run may simply write it again.
        await durable.repeatable_step(records.finish_run, self.database, run_id, **outcome)
        return str(outcome["status"].value)

    async def _prepare_agent(
        self, run_id: uuid.UUID, step: AgentStep, iteration: int, message: str
    ) -> PreparedRun | None:
        """Store the step's agent run and record the step begun, in one transaction.

        None once the run has ended, or when the step's agent is gone (the run fails).
        """

        async def work(session: AsyncSession) -> PreparedRun | Literal["ended", "no_agent"]:
            run = await session.get(WorkflowRun, run_id)
            if run is None or run.status.is_final:
                return "ended"
            agent = await workflow_crud.organization_agent(
                session, organization_id=run.organization_id, agent_id=step.agent_id
            )
            if agent is None:
                return "no_agent"
            stored = await persistence.store_pending_run(
                session,
                user_id=run.owner_id,
                agent=agent,
                message=message,
                conversation_id=None,
                prior_messages=(),
            )
            prepared = replace(stored, workflow_step=WorkflowStepRef(run_id, step.id, iteration))
            await records.record_step_started(
                session,
                run_id,
                step_id=step.id,
                iteration=iteration,
                type=step.type,
                input=message,
                execution_id=prepared.execution_id,
                event={"agent_id": str(step.agent_id)},
            )
            # Leased before it is visible, so no sweep takes the stored run for an orphan.
            await cancellation.renew_lease(
                self.store, prepared.execution_id, self.settings.run_lease_seconds
            )
            return prepared

        prepared = await records.in_transaction(self.database, work)
        if prepared == "no_agent":
            await records.finish_run(
                self.database,
                run_id,
                status=WorkflowRunStatus.FAILED,
                error_type="agent_not_found",
                error_message=f"Step '{step.id}': its agent no longer exists",
            )
        return prepared if isinstance(prepared, PreparedRun) else None

    async def _launch_agent(self, prepared: PreparedRun) -> WorkflowHandleAsync[dict[str, Any]]:
        """The agent run as a child workflow of this run, run here with its text streamed."""
        return await durable.start(self.runs, prepared, stream=True)

    async def _hold_lease(self, run_id: uuid.UUID) -> None:
        """Renew the run's lease while its body runs here, so no sweep takes it for lost."""
        seconds = self.settings.run_lease_seconds
        while True:
            with contextlib.suppress(*OUTAGE_ERRORS):
                await cancellation.renew_lease(self.store, run_id, seconds)
            await asyncio.sleep(max(0.2, seconds / 3))

    async def notify_decided(self, run_id: uuid.UUID, record_id: uuid.UUID) -> None:
        """Wake the run waiting on this approval; the decision itself is in its record."""
        await DBOS.send_async(
            str(run_id), "decided", approval_topic(record_id), idempotency_key=str(record_id)
        )

    async def cancel(self, run_id: uuid.UUID, *, owner_id: uuid.UUID) -> None:
        """Record the run cancelled, stop its agent run, and wake it if it waits."""
        async with self.database.transaction() as session:
            active = await records.active_steps(session, run_id)
        await records.finish_run(
            self.database,
            run_id,
            status=WorkflowRunStatus.CANCELLED,
            error_type="cancelled",
            error_message="Cancelled by request",
        )
        for record_id, execution_id in active:
            if execution_id is not None:
                await self.runs.cancel(execution_id, organization_id=None)
            else:
                await DBOS.send_async(str(run_id), CANCEL_MESSAGE, approval_topic(record_id))

    async def sweep(self) -> int:
        """Resume runs whose process died (lease lapsed); start those never started."""
        resumed = 0
        for run_id in await records.active_runs(self.database):
            if run_id in self._bodies or await cancellation.has_live_lease(self.store, run_id):
                continue
            state = await durable.state_of(run_id)
            if state == "PENDING":
                await DBOS.resume_workflow_async(str(run_id), queue_name=QUEUE_NAME)
            elif state is None:
                await self.launch(run_id)
            elif state != "ENQUEUED":
                await records.finish_run(
                    self.database,
                    run_id,
                    status=WorkflowRunStatus.FAILED,
                    error_type="interrupted",
                    error_message="The run's process stopped before recording its outcome",
                )
                continue
            else:
                continue
            resumed += 1
            logger.warning("workflow_run_resumed", run_id=str(run_id), state=state)
        return resumed
