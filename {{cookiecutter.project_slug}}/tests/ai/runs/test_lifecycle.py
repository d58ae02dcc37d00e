"""The run manager's guarantees: cross-process cancel, the orphan sweep, shutdown, early cancel."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from sqlalchemy import select

from app.ai.runs import cancellation
from app.db.session import Database
from app.models import Execution, ExecutionStatus
from tests.support.builders import Builder
from tests.support.run_manager import manager_with, new_agent
from tests.support.waiting import suspended_in, wait_for


async def test_cancel_from_another_process_stops_the_run(
    app: FastAPI, build: Builder, database: Database
) -> None:
    """Two run managers share only the key-value store, as two worker processes do."""
    runner = manager_with(app, [])
    other_process = manager_with(app, [])
    agent = await new_agent(build, database, "scripted")
    prepared = await runner.prepare(user_id=agent.owner_id, agent=agent, message="!sleep 30")
    task = runner.launch(prepared)
    await wait_for(lambda: suspended_in(task, "sleep"))

    await other_process.cancel(prepared.execution_id, owner_id=agent.owner_id, wait_seconds=0)
    execution = await asyncio.wait_for(task, timeout=5)

    assert execution.status is ExecutionStatus.CANCELLED
    assert execution.error_type == "cancelled"
    assert not await cancellation.has_live_lease(app.state.store, prepared.execution_id)


async def test_sweep_fails_runs_whose_process_died_and_spares_live_ones(
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

    assert swept == 1
    async with database.transaction() as session:
        statuses = {
            e.id: (e.status, e.error_type) for e in (await session.scalars(select(Execution))).all()
        }
    assert statuses[orphan.id] == (ExecutionStatus.FAILED, "interrupted")
    assert statuses[live.id] == (ExecutionStatus.RUNNING, None)
    assert statuses[done.id] == (ExecutionStatus.COMPLETED, None)
    await cancellation.release_lease(app.state.store, live.id)


async def test_shutdown_records_the_outcome_of_runs_in_flight(
    app: FastAPI, build: Builder, database: Database
) -> None:
    runs = manager_with(app, [])
    agent = await new_agent(build, database, "scripted")
    prepared = await runs.prepare(user_id=agent.owner_id, agent=agent, message="!sleep 30")
    task = runs.launch(prepared)
    await wait_for(lambda: suspended_in(task, "sleep"))

    await runs.shutdown()

    assert task.done()
    assert task.result().status is ExecutionStatus.CANCELLED


async def test_a_run_cancelled_before_its_first_step_is_recorded_as_cancelled(
    app: FastAPI, build: Builder, database: Database
) -> None:
    runs = manager_with(app, [])
    agent = await new_agent(build, database, "scripted")
    prepared = await runs.prepare(user_id=agent.owner_id, agent=agent, message="hello")
    task = runs.launch(prepared)
    task.cancel()  # before the event loop ever runs it, as a cancel racing the start does

    execution = await runs.cancel(prepared.execution_id, owner_id=agent.owner_id)

    assert task.cancelled()
    assert execution.status is ExecutionStatus.CANCELLED
    assert execution.finished_at is not None


async def test_a_run_past_its_deadline_fails_with_a_clear_reason(
    app: FastAPI, build: Builder, database: Database
) -> None:
    runs = manager_with(app, [], run_timeout_seconds=0.3)
    agent = await new_agent(build, database, "scripted")
    prepared = await runs.prepare(user_id=agent.owner_id, agent=agent, message="!sleep 30")

    execution = await asyncio.wait_for(runs.launch(prepared), timeout=5)

    assert execution.status is ExecutionStatus.FAILED
    assert execution.error_type == "deadline"
    assert execution.error_message == "The run did not finish within 0.3s"
    assert not await cancellation.has_live_lease(app.state.store, prepared.execution_id)
