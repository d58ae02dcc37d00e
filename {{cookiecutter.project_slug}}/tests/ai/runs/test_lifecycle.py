"""The run manager's guarantees: cross-process cancel, shutdown, early cancel, deadlines."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import pytest
from fastapi import FastAPI

from app.ai.runs import RunManager, cancellation, durable
from app.ai.runs.sweeper import SWEEP_LOCK_KEY
from app.core.errors import ServiceUnavailableError
from app.db.session import Database
from app.models import Execution, ExecutionStatus
from tests.support.builders import Builder
from tests.support.factories import AppFactory
from tests.support.run_manager import manager_with, new_agent, status_of
from tests.support.waiting import suspended_in, wait_for


def sleeping(runs: RunManager, execution_id: uuid.UUID) -> bool:
    """Whether the run is executing here and waiting in the scripted provider's sleep."""
    body = runs.task_of(execution_id)
    return body is not None and suspended_in(body, "sleep")


async def test_cancel_from_another_process_stops_the_run(
    app: FastAPI, build: Builder, database: Database
) -> None:
    """Two run managers share only the key-value store, as two worker processes do."""
    runner = manager_with(app, [])
    other_process = manager_with(app, [])
    agent = await new_agent(build, database, "scripted")
    prepared = await runner.prepare(user_id=agent.owner_id, agent=agent, message="!sleep 30")
    task = runner.launch(prepared)
    await wait_for(lambda: sleeping(runner, prepared.execution_id))

    await other_process.cancel(
        prepared.execution_id, organization_id=agent.organization_id, wait_seconds=0
    )
    execution = await asyncio.wait_for(task, timeout=5)

    assert execution.status is ExecutionStatus.CANCELLED
    assert execution.error_type == "cancelled"
    assert not await cancellation.has_live_lease(app.state.store, prepared.execution_id)


async def _is(database: Database, execution_id: uuid.UUID, status: ExecutionStatus) -> bool:
    return await status_of(database, execution_id) is status


async def test_shutdown_leaves_a_run_in_flight_to_be_resumed(
    app: FastAPI, build: Builder, database: Database
) -> None:
    runs = manager_with(app, [], shutdown_timeout_seconds=0.2)
    agent = await new_agent(build, database, "scripted")
    prepared = await runs.prepare(user_id=agent.owner_id, agent=agent, message="!sleep 30")
    runs.launch(prepared)
    await wait_for(lambda: sleeping(runs, prepared.execution_id))

    await runs.shutdown()

    assert runs.task_of(prepared.execution_id) is None
    assert await status_of(database, prepared.execution_id) is ExecutionStatus.RUNNING
    assert await durable.state_of(prepared.execution_id) == "PENDING"
    service: RunManager = app.state.runs
    await service.sweep_orphans()
    await wait_for(
        lambda: sleeping(service, prepared.execution_id), message="another worker resumed it"
    )
    cancelled = await service.cancel(prepared.execution_id, organization_id=agent.organization_id)
    assert cancelled.status is ExecutionStatus.CANCELLED


async def test_a_run_cancelled_before_its_first_step_is_recorded_as_cancelled(
    app: FastAPI, build: Builder, database: Database
) -> None:
    runs = manager_with(app, [])
    agent = await new_agent(build, database, "scripted")
    prepared = await runs.prepare(user_id=agent.owner_id, agent=agent, message="hello")
    task = runs.launch(prepared)
    task.cancel()  # before the event loop ever runs it, as a cancel racing the start does

    execution = await runs.cancel(prepared.execution_id, organization_id=agent.organization_id)

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


async def test_a_worker_at_its_run_limit_refuses_at_once_with_503(
    app: FastAPI, build: Builder, database: Database
) -> None:
    runs = manager_with(app, [], max_concurrent_runs=1)
    agent = await new_agent(build, database, "scripted")
    first = await runs.prepare(user_id=agent.owner_id, agent=agent, message="!sleep 30")
    task = runs.launch(first)

    with pytest.raises(ServiceUnavailableError) as refused:
        await runs.prepare(user_id=agent.owner_id, agent=agent, message="one more")

    assert refused.value.status_code == 503
    assert refused.value.headers == {"Retry-After": "2"}
    await runs.cancel(first.execution_id, organization_id=agent.organization_id)
    await asyncio.wait({task}, timeout=5)
    assert task.done()
    assert runs.in_flight == 0


async def test_cancel_and_follow_end_a_run_that_no_process_owns(
    app: FastAPI, build: Builder, database: Database
) -> None:
    """A run left `running` by a process that died (no lease): cancel and follow finish it."""
    runs = manager_with(app, [])
    agent = await new_agent(build, database, "scripted")
    conversation = await build.conversation(agent=agent)
    to_cancel = await build.execution(conversation=conversation, status=ExecutionStatus.RUNNING)
    to_follow = await build.execution(conversation=conversation, status=ExecutionStatus.RUNNING)

    cancelled = await runs.cancel(to_cancel.id, organization_id=agent.organization_id)
    followed = [
        event async for event in runs.follow(to_follow.id, organization_id=agent.organization_id)
    ]

    assert cancelled.status is ExecutionStatus.CANCELLED
    assert [(e.name, e.data["error_type"]) for e in followed] == [
        ("execution.failed", "interrupted")
    ]


async def test_the_periodic_sweep_resumes_orphans_while_the_service_runs(
    make_app: AppFactory, build: Builder, database: Database
) -> None:
    service = await make_app(sweep_interval_seconds=0.1)
    agent = await new_agent(build, database, "scripted")
    conversation = await build.conversation(agent=agent)
    orphan = await build.execution(conversation=conversation, status=ExecutionStatus.RUNNING)
    await service.state.store.delete(SWEEP_LOCK_KEY)

    await wait_for(
        lambda: _is(database, orphan.id, ExecutionStatus.COMPLETED),
        message="the orphan is resumed by the running service",
    )


async def test_shutdown_is_bounded_when_a_run_ignores_its_cancel(
    app: FastAPI, build: Builder, database: Database
) -> None:
    runs = manager_with(app, [], shutdown_timeout_seconds=0.2)
    agent = await new_agent(build, database, "scripted")
    prepared = await runs.prepare(user_id=agent.owner_id, agent=agent, message="hi")
    release = asyncio.Event()

    async def stubborn() -> Execution:
        while not release.is_set():
            with contextlib.suppress(asyncio.CancelledError):
                await release.wait()
        raise asyncio.CancelledError

    runs._reserved -= 1
    runs._bodies[prepared.execution_id] = asyncio.create_task(stubborn())
    try:
        await asyncio.wait_for(runs.shutdown(), timeout=5)
        assert await status_of(database, prepared.execution_id) is ExecutionStatus.PENDING
    finally:
        release.set()
