"""What making a run durable costs, in-process: the same run as a workflow and run plainly.

Run by `make bench-durable` as a child process with the server's environment:

    python -m scripts.bench_durable.overhead --runs 200 --result overhead.json

Each sample is a pair, taken one right after the other in alternating order: the run
through the durable path (`prepare` + `launch`: a DBOS workflow whose steps are recorded)
and the same run executed plainly (its rows stored, then `RunManager.run`, where each step
is a plain call). Done for a one-turn run and for a run with one tool call; the steps the
workflow recorded are counted from the engine's own list.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from dbos import DBOS

from app.ai.runs import RunManager, persistence
from app.core.config import Settings
from app.main import create_app
from app.models import Agent, Execution, ExecutionStatus
from scripts.bench.turns import TOOL_MESSAGE, WARMUP, scripted_agent

MESSAGES = {"one_turn": "hello", "tool": TOOL_MESSAGE}


def _completed(execution: Execution) -> None:
    """Refuse to time a run that did not do its work."""
    if execution.status is not ExecutionStatus.COMPLETED:
        raise RuntimeError(
            f"a measured run ended {execution.status.value}: {execution.error_message}"
        )


async def measure(settings: Settings, runs: int) -> dict[str, list[float]]:
    """Samples by name (`one_turn_durable_ms`, `tool_plain_ms`, `tool_steps`...), warm-up dropped."""
    app = create_app(settings)
    samples: dict[str, list[float]] = {}
    async with app.router.lifespan_context(app):
        manager: RunManager = app.state.runs
        agent = await scripted_agent(app.state.database)
        for kind, message in MESSAGES.items():
            for index in range(WARMUP + runs):
                order = ("durable", "plain") if index % 2 == 0 else ("plain", "durable")
                for path in order:
                    started = time.perf_counter()
                    execution = await PATHS[path](manager, agent, message)
                    wall = (time.perf_counter() - started) * 1000
                    _completed(execution)
                    if index >= WARMUP:
                        samples.setdefault(f"{kind}_{path}_ms", []).append(wall)
                    if path == "durable" and index == WARMUP:
                        steps = await DBOS.list_workflow_steps_async(str(execution.id))
                        samples[f"{kind}_steps"] = [float(len(steps))]
    return samples


async def _durable(manager: RunManager, agent: Agent, message: str) -> Execution:
    """The run as the API starts it: stored, then launched as a workflow here."""
    prepared = await manager.prepare(user_id=agent.owner_id, agent=agent, message=message)
    return await manager.launch(prepared)


async def _plain(manager: RunManager, agent: Agent, message: str) -> Execution:
    """The same rows stored, then the run executed outside any workflow: no step recorded."""
    async with manager.database.transaction() as session:
        prepared = await persistence.store_pending_run(
            session,
            user_id=agent.owner_id,
            agent=agent,
            message=message,
            conversation_id=None,
            prior_messages=(),
        )
    return await manager.run(prepared)


PATHS: dict[str, Callable[[RunManager, Agent, str], Awaitable[Execution]]] = {
    "durable": _durable,
    "plain": _plain,
}


def main() -> None:
    """Measure with the settings in the environment and write the samples as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--result", type=Path, required=True)
    options = parser.parse_args()
    samples = asyncio.run(measure(Settings(), options.runs))
    options.result.write_text(json.dumps(samples))


if __name__ == "__main__":
    main()
