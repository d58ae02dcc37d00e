"""What a workflow adds to its agent runs, in-process: a pipeline of four agent steps.

Run by `make bench-durable` as a child process with the server's environment:

    python -m scripts.bench_durable.workflows --runs 20 --result workflows.json

Each sample is one run of a workflow whose four steps each run the scripted agent on the
previous step's output, launched as the API launches it. Its overhead is the run's wall
time (launch to the recorded finish) minus the wall time of its four agent runs, each from
the moment it is stored to its recorded finish (what a run started alone through the API
costs too): the time in which no agent run is under way, spent beginning and finishing the
workflow and recording each step's start and outcome on it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.ai.workflows.engine import WorkflowEngine
from app.core.config import Settings
from app.crud import organization as organization_crud
from app.db.session import Database
from app.main import create_app
from app.models import Agent, Execution, Workflow, WorkflowRun, WorkflowRunStatus
from app.models import WorkflowStepRecord as StepRecord
from scripts.bench.turns import scripted_agent

STEPS = 4
WARMUP = 3
# How often the run's row is checked for its end; the figures use its recorded finish.
POLL_SECONDS = 0.005
RUN_DEADLINE_SECONDS = 60.0


def pipeline(agent: Agent) -> list[dict[str, Any]]:
    """Four agent steps in a line, each fed the one before."""
    names = [f"step{number}" for number in range(1, STEPS + 1)]
    return [
        {
            "id": name,
            "type": "agent",
            "agent_id": str(agent.id),
            "input": "${input}" if index == 0 else "${" + names[index - 1] + "}",
            "next": names[index + 1] if index + 1 < STEPS else None,
        }
        for index, name in enumerate(names)
    ]


async def _workflow(database: Database, agent: Agent) -> Workflow:
    async with database.transaction() as session:
        workspace = await organization_crud.get_personal_id(session, user_id=agent.owner_id)
        assert workspace is not None, "every account has a personal workspace"
        workflow = Workflow(
            organization_id=workspace,
            owner_id=agent.owner_id,
            name="bench",
            version=1,
            steps=pipeline(agent),
        )
        session.add(workflow)
        await session.flush()
        return workflow


async def _new_run(database: Database, workflow: Workflow) -> uuid.UUID:
    async with database.transaction() as session:
        run = WorkflowRun(
            organization_id=workflow.organization_id,
            owner_id=workflow.owner_id,
            workflow_id=workflow.id,
            workflow_version=workflow.version,
            definition=workflow.steps,
            input="Benchmark the pipeline.",
        )
        session.add(run)
        await session.flush()
        return run.id


async def _finished(database: Database, run_id: uuid.UUID) -> tuple[datetime, float]:
    """When the run finished and its agent runs' total wall time, in ms, once it has."""
    deadline = time.monotonic() + RUN_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        async with database.transaction() as session:
            run = await session.get(WorkflowRun, run_id, populate_existing=True)
            assert run is not None
            if run.status.is_final:
                if run.status is not WorkflowRunStatus.COMPLETED or run.finished_at is None:
                    raise RuntimeError(f"a measured run ended {run.status}: {run.error_message}")
                spans = await session.execute(
                    select(Execution.created_at, Execution.finished_at)
                    .join(StepRecord, StepRecord.execution_id == Execution.id)
                    .where(StepRecord.run_id == run_id)
                )
                agents = sum(
                    (finished - created).total_seconds() * 1000
                    for created, finished in spans
                    if finished is not None
                )
                return run.finished_at, agents
        await asyncio.sleep(POLL_SECONDS)
    raise RuntimeError(f"workflow run {run_id} did not finish in {RUN_DEADLINE_SECONDS:g} s")


async def measure(settings: Settings, runs: int) -> dict[str, list[float]]:
    """Samples: `workflow_ms` (launch to finish), `agents_ms`, `overhead_ms`; warm-up dropped."""
    app = create_app(settings)
    samples: dict[str, list[float]] = {}
    async with app.router.lifespan_context(app):
        engine: WorkflowEngine = app.state.workflows
        database: Database = app.state.database
        workflow = await _workflow(database, await scripted_agent(database))
        for index in range(WARMUP + runs):
            run_id = await _new_run(database, workflow)
            launched = datetime.now(UTC)
            await engine.launch(run_id)
            finished, agents_ms = await _finished(database, run_id)
            wall_ms = (finished.replace(tzinfo=UTC) - launched).total_seconds() * 1000
            if index >= WARMUP:
                samples.setdefault("workflow_ms", []).append(wall_ms)
                samples.setdefault("agents_ms", []).append(agents_ms)
                samples.setdefault("overhead_ms", []).append(wall_ms - agents_ms)
    samples["steps"] = [float(STEPS)]
    return samples


def main() -> None:
    """Measure with the settings in the environment and write the samples as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--result", type=Path, required=True)
    options = parser.parse_args()
    samples = asyncio.run(measure(Settings(), options.runs))
    options.result.write_text(json.dumps(samples))


if __name__ == "__main__":
    main()
