"""The sweep: runs a dead process left are resumed, and live ones are spared."""

from __future__ import annotations

import uuid

from fastapi import FastAPI

from app.ai.runs import cancellation, outcomes
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


async def test_sweep_leaves_runs_that_ended_or_vanished_while_it_looked(
    build: Builder, database: Database
) -> None:
    """Between the listing and the update, one run completes and another row is deleted."""
    agent = await new_agent(build, database, "scripted")
    conversation = await build.conversation(agent=agent)
    finishing = await build.execution(conversation=conversation, status=ExecutionStatus.RUNNING)
    vanishing = await build.execution(conversation=conversation, status=ExecutionStatus.RUNNING)

    async def is_live(execution_id: uuid.UUID) -> bool:
        async with database.transaction() as session:
            row = await session.get(Execution, execution_id)
            assert row is not None
            if execution_id == finishing.id:
                row.status = ExecutionStatus.COMPLETED
            else:
                await session.delete(row)
        return False

    swept = await outcomes.fail_orphans(database, is_live=is_live)

    assert swept == 0
    async with database.transaction() as session:
        finished = await session.get(Execution, finishing.id)
        assert finished is not None
        assert finished.status is ExecutionStatus.COMPLETED
        assert await session.get(Execution, vanishing.id) is None


async def _completed(database: Database, execution: Execution) -> bool:
    return await status_of(database, execution.id) is ExecutionStatus.COMPLETED
