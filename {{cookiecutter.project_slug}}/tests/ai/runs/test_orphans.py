"""The sweep: runs a dead process left are resumed, and live ones are spared."""

from __future__ import annotations

from fastapi import FastAPI

from app.ai.runs import cancellation
from app.db.session import Database
from app.models import Execution, ExecutionStatus
from tests.support.builders import Builder
from tests.support.run_manager import manager_with, new_agent, status_of
from tests.support.waiting import wait_for


async def test_sweep_resumes_runs_whose_process_died_and_spares_live_ones(
    app: FastAPI, build: Builder, database: Database
) -> None:
    runs = manager_with(app, [])
    agent = await new_agent(build, database, "scripted")
    conversation = await build.conversation(agent=agent)
    orphan = await build.execution(conversation=conversation, status=ExecutionStatus.RUNNING)
    live = await build.execution(conversation=conversation, status=ExecutionStatus.RUNNING)
    done = await build.execution(conversation=conversation, status=ExecutionStatus.COMPLETED)
    await cancellation.renew_lease(app.state.store, live.id)

    swept = await runs.sweep_orphans()

    assert swept == 0
    await wait_for(
        lambda: _completed(database, orphan),
        message="the orphan was resumed by a worker and ran to its end",
    )
    assert await status_of(database, live.id) is ExecutionStatus.RUNNING
    assert await status_of(database, done.id) is ExecutionStatus.COMPLETED
    await cancellation.release_lease(app.state.store, live.id)


async def test_sweep_fails_a_run_whose_workflow_ended_without_its_outcome_stored(
    app: FastAPI, build: Builder, database: Database
) -> None:
    runs = manager_with(app, [])
    agent = await new_agent(build, database, "scripted")
    prepared = await runs.prepare(user_id=agent.owner_id, agent=agent, message="hello")
    await runs.launch(prepared)
    async with database.transaction() as session:
        row = await session.get(Execution, prepared.execution_id)
        assert row is not None
        row.status = ExecutionStatus.RUNNING  # as if the outcome's write had been lost
    await cancellation.release_lease(app.state.store, prepared.execution_id)

    swept = await runs.sweep_orphans()

    assert swept == 1
    assert await status_of(database, prepared.execution_id) is ExecutionStatus.FAILED


async def _completed(database: Database, execution: Execution) -> bool:
    return await status_of(database, execution.id) is ExecutionStatus.COMPLETED
