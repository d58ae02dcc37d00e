"""One workflow run's way through its graph, each write a recorded step, waits durable.

Replayed after a crash, every step that completed returns its recorded result, so the
walk takes the same way again up to where it stopped: agent runs are not repeated, and
an approval it waited for is waited for again, for the time that was left.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from dbos import DBOS
from pydantic import TypeAdapter

from app.ai.runs import PreparedRun, durable
from app.ai.workflows import decisions, records, routing
from app.ai.workflows.graph import StepGraph
from app.ai.workflows.templating import INPUT_VARIABLE, render
from app.models import WorkflowRunStatus
from app.schemas.workflow import AgentStep, ApprovalStep, BranchStep, ParallelStep, Step

# A guard for graphs whose bounded loops still multiply into very long runs.
MAX_PASSES = 500
CANCEL_MESSAGE = "cancel"
STEPS = TypeAdapter(list[Step])

Prepare = Callable[..., Coroutine[Any, Any, PreparedRun | None]]
Launch = Callable[[PreparedRun], Awaitable[Any]]


def approval_topic(record_id: uuid.UUID) -> str:
    """Where the decision on one approval (one pass through the step) is sent."""
    return f"approval:{record_id}"


class RunEndedError(Exception):
    """The run reached an outcome before its last step: failed, rejected or cancelled."""

    def __init__(self, status: WorkflowRunStatus, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message


@dataclass
class Walk:
    """The state a run carries from step to step: outputs, passes, branch cases taken."""

    run_id: uuid.UUID
    owner_id: uuid.UUID
    graph: StepGraph
    database: Any
    prepare: Prepare
    launch: Launch
    values: dict[str, str] = field(default_factory=dict)
    visits: dict[str, int] = field(default_factory=dict)
    taken: dict[str, dict[int, int]] = field(default_factory=dict)
    previous: str | None = None

    async def run(self, workflow_input: str) -> str:
        """Walk from the first step to the end; the last producing step's output."""
        self.values[INPUT_VARIABLE] = workflow_input
        current: str | None = self.graph.start
        for _ in range(MAX_PASSES):
            if current is None:
                return self.values.get(self.previous or "", "")
            step = self.graph.steps[current]
            iteration = self.visits[current] = self.visits.get(current, 0) + 1
            current = await self._take(step, iteration)
        raise RunEndedError(
            WorkflowRunStatus.FAILED, "too_many_steps", f"The run took over {MAX_PASSES} steps"
        )

    async def _take(self, step: Step, iteration: int) -> str | None:
        """Run one step; the id of the next one, or None at the end."""
        if isinstance(step, AgentStep):
            self.values[step.id] = await self._agent(step, iteration)
            self.previous = step.id
            return step.next
        if isinstance(step, ApprovalStep):
            await self._approval(step, iteration)
            return step.next
        if isinstance(step, BranchStep):
            return await self._branch(step, iteration)
        return await self._parallel(step, iteration)

    async def _agent(self, step: AgentStep, iteration: int) -> str:
        (outcome,) = await self._agents([step], iteration)
        return str(outcome["output"])

    async def _agents(self, steps: list[AgentStep], iteration: int) -> list[dict[str, Any]]:
        """Run agent steps at once as child workflows; each outcome, failing the run on one."""
        prepared: list[PreparedRun] = []
        for step in steps:
            message = render(step.input, self.values)
            run: PreparedRun | None = await durable.step(
                "workflow_prepare_agent", self.prepare, self.run_id, step, iteration, message
            )
            if run is None:
                raise RunEndedError(
                    WorkflowRunStatus.CANCELLED, "cancelled", "The run was cancelled"
                )
            prepared.append(run)
        handles = [await self.launch(run) for run in prepared]
        results = await asyncio.gather(
            *(handle.get_result() for handle in handles), return_exceptions=True
        )
        outcomes: list[dict[str, Any]] = []
        for step, run, result in zip(steps, prepared, results, strict=True):
            if _stored_with_step(result):
                outcome = result
            else:
                outcome = await self._record_outcome(step, iteration, run)
            if outcome["status"] != "completed":
                raise RunEndedError(
                    WorkflowRunStatus.FAILED,
                    "step_failed",
                    f"Step '{step.id}' failed: {outcome['error_message'] or outcome['error_type']}",
                )
            outcomes.append(outcome)
        return outcomes

    async def _record_outcome(
        self, step: AgentStep, iteration: int, run: PreparedRun
    ) -> dict[str, Any]:
        """Copy onto the step an outcome its run could not store with it; the outcome.

        A run recorded before runs stored their step, or whose outcome was never stored.
        """
        outcome: dict[str, Any] = await durable.step(
            "workflow_finish_agent",
            records.finish_agent_step,
            self.database,
            self.run_id,
            step_id=step.id,
            iteration=iteration,
            execution_id=run.execution_id,
        )
        return outcome

    async def _approval(self, step: ApprovalStep, iteration: int) -> None:
        """Wait, durably, for a decision; an edit replaces the previous step's output."""
        shown = self.values.get(self.previous or "", "")
        record_id = await durable.step(
            "workflow_request_approval",
            records.start_step,
            self.database,
            self.run_id,
            step_id=step.id,
            iteration=iteration,
            type=step.type,
            input=shown,
            waiting=True,
            event={
                "approvers": list(step.approvers),
                "timeout_seconds": step.timeout_seconds,
                "reviews": self.previous,
                "output": shown,
            },
        )
        message = await DBOS.recv_async(approval_topic(record_id), step.timeout_seconds)
        if message == CANCEL_MESSAGE:
            raise RunEndedError(WorkflowRunStatus.CANCELLED, "cancelled", "The run was cancelled")
        if message is None:
            await self._timed_out(step, record_id)
        decision = await durable.step(
            "workflow_read_decision", decisions.read_decision, self.database, record_id
        )
        if not decision["approved"]:
            reason = decision["comment"] or "no reason given"
            raise RunEndedError(
                WorkflowRunStatus.FAILED, "rejected", f"Rejected at '{step.id}': {reason}"
            )
        if decision["edited"] is not None and self.previous is not None:
            self.values[self.previous] = decision["edited"]

    async def _timed_out(self, step: ApprovalStep, record_id: uuid.UUID) -> None:
        """Decide as configured when nobody did in time (unless someone just did)."""
        claimed = await durable.step(
            "workflow_timeout_decision",
            decisions.claim_decision,
            self.database,
            record_id,
            approved=step.on_timeout == "approve",
            comment=f"No decision within {step.timeout_seconds:g}s",
            edited=None,
            decided_by=None,
        )
        if claimed and step.on_timeout == "fail":
            raise RunEndedError(
                WorkflowRunStatus.FAILED,
                "approval_timeout",
                f"No decision at '{step.id}' within {step.timeout_seconds:g}s",
            )

    async def _branch(self, step: BranchStep, iteration: int) -> str | None:
        """Follow the first matching case still under its bound, else the default."""
        taken = self.taken.setdefault(step.id, {})
        target, index = routing.choose(step, self.values.get(step.source, ""), taken)
        if index is not None:
            taken[index] = taken.get(index, 0) + 1
        await durable.step("workflow_branch", self._record_branch, step, iteration, target, index)
        return target

    async def _record_branch(
        self, step: BranchStep, iteration: int, target: str | None, index: int | None
    ) -> None:
        await records.start_step(
            self.database, self.run_id, step_id=step.id, iteration=iteration, type=step.type
        )
        await records.complete_step(
            self.database,
            self.run_id,
            step_id=step.id,
            iteration=iteration,
            output=target,
            event={"next": target, "case": index},
        )

    async def _parallel(self, step: ParallelStep, iteration: int) -> str | None:
        """Run the branches at once; the output has a section per branch, in listed order."""
        await durable.step(
            "workflow_start_parallel",
            records.start_step,
            self.database,
            self.run_id,
            step_id=step.id,
            iteration=iteration,
            type=step.type,
        )
        branches = [self.graph.steps[branch] for branch in step.branches]
        agents = [branch for branch in branches if isinstance(branch, AgentStep)]
        outcomes = await self._agents(agents, iteration)
        for branch, outcome in zip(agents, outcomes, strict=True):
            self.values[branch.id] = str(outcome["output"])
        joined = "\n\n".join(f"## {branch.id}\n{self.values[branch.id]}" for branch in agents)
        self.values[step.id] = joined
        self.previous = step.id
        await durable.step(
            "workflow_join_parallel",
            records.complete_step,
            self.database,
            self.run_id,
            step_id=step.id,
            iteration=iteration,
            output=joined,
        )
        return step.next


def _stored_with_step(result: object) -> TypeGuard[dict[str, Any]]:
    """Whether an agent run's result is its outcome, stored with its step's."""
    return isinstance(result, dict) and bool(result.get("stored"))
