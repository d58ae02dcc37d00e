"""The engine's own guarantees: bounded loops, nothing lost on failure, cross-process cancel."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.ai import cancellation
from app.ai.engine import ExecutionEngine
from app.ai.providers.base import (
    Completion,
    FinishReason,
    ProviderError,
    ProviderErrorKind,
    ToolCall,
    Usage,
)
from app.ai.providers.factory import ProviderFactory, ProviderRegistry
from app.ai.providers.scripted import ScriptedProvider
from app.core.config import Settings
from app.db.session import Database
from app.models import Agent, Execution, ExecutionStatus, Message, MessageRole
from tests.support.builders import Builder, add_user

CALL = Completion(
    content="",
    model="looping",
    usage=Usage(10, 5),
    finish_reason=FinishReason.TOOL_CALLS,
    tool_calls=(ToolCall(id="c1", name="calculator", arguments={"expression": "1+1"}),),
)


def engine_with(
    app: FastAPI, script: Iterable[Completion | ProviderError], **overrides: object
) -> ExecutionEngine:
    """An engine on the app's database, store and tools, with a scripted provider."""
    settings: Settings = app.state.settings.model_copy(update=overrides)
    registry = ProviderRegistry()
    provider = ScriptedProvider(script=script)
    registry.register("looping", lambda _settings: provider)
    registry.register("scripted", lambda _settings: ScriptedProvider())
    return ExecutionEngine(
        settings=settings,
        database=app.state.database,
        store=app.state.store,
        providers=ProviderFactory(settings, registry),
        tools=app.state.tools,
        tool_manager=app.state.tool_manager,
    )


async def new_agent(builder: Builder, database: Database, provider: str) -> Agent:
    async with database.transaction() as session:
        owner = await add_user(session)
    return await builder.agent(owner_id=owner.id, provider=provider, tools=["calculator"])


@pytest.fixture
def builder(database: Database) -> Builder:
    return Builder(database)


async def stored_messages(database: Database, execution: Execution) -> list[Message]:
    async with database.transaction() as session:
        rows = await session.scalars(
            select(Message)
            .where(Message.conversation_id == execution.conversation_id)
            .order_by(Message.sequence)
        )
        return list(rows.all())


async def test_tool_loop_stops_at_the_iteration_bound(
    app: FastAPI, builder: Builder, database: Database
) -> None:
    engine = engine_with(app, [CALL] * 3, max_tool_iterations=3)
    agent = await new_agent(builder, database, "looping")
    prepared = await engine.prepare(user_id=agent.owner_id, agent=agent, message="loop")

    execution = await engine.run(prepared)

    assert execution.status is ExecutionStatus.FAILED
    assert execution.error_type == "max_iterations"
    assert execution.input_tokens == 30
    assert execution.output_tokens == 15
    roles = [m.role for m in await stored_messages(database, execution)]
    assert roles == [MessageRole.USER] + [MessageRole.ASSISTANT, MessageRole.TOOL] * 3


async def test_a_failure_mid_run_keeps_every_stored_message_and_the_usage(
    app: FastAPI, builder: Builder, database: Database
) -> None:
    failure = ProviderError("looping", ProviderErrorKind.UNAVAILABLE, "upstream returned 503")
    engine = engine_with(app, [CALL, failure])
    agent = await new_agent(builder, database, "looping")
    prepared = await engine.prepare(user_id=agent.owner_id, agent=agent, message="go")

    execution = await engine.run(prepared)

    assert execution.status is ExecutionStatus.FAILED
    assert execution.error_type == "provider.unavailable"
    assert "503" in (execution.error_message or "")
    assert execution.input_tokens == 10
    assert execution.finished_at is not None
    messages = await stored_messages(database, execution)
    assert [m.role for m in messages] == [
        MessageRole.USER,
        MessageRole.ASSISTANT,
        MessageRole.TOOL,
    ]
    assert messages[2].content == "2"


async def test_cancel_from_another_process_stops_the_run(
    app: FastAPI, builder: Builder, database: Database
) -> None:
    """Two engines share only the key-value store, as two worker processes do."""
    runner = engine_with(app, [])
    other_process = engine_with(app, [])
    agent = await new_agent(builder, database, "scripted")
    prepared = await runner.prepare(user_id=agent.owner_id, agent=agent, message="!sleep 30")
    task = runner.launch(prepared)
    await asyncio.sleep(0.1)

    await other_process.cancel(prepared.execution_id, owner_id=agent.owner_id, wait_seconds=0)
    execution = await asyncio.wait_for(task, timeout=5)

    assert execution.status is ExecutionStatus.CANCELLED
    assert execution.error_type == "cancelled"
    assert not await cancellation.has_live_lease(app.state.store, prepared.execution_id)


async def test_sweep_fails_runs_whose_process_died_and_spares_live_ones(
    app: FastAPI, builder: Builder, database: Database
) -> None:
    engine = engine_with(app, [])
    agent = await new_agent(builder, database, "scripted")
    conversation = await builder.conversation(agent=agent)
    orphan = await builder.execution(conversation=conversation, status=ExecutionStatus.RUNNING)
    live = await builder.execution(conversation=conversation, status=ExecutionStatus.RUNNING)
    done = await builder.execution(conversation=conversation, status=ExecutionStatus.COMPLETED)
    await cancellation.renew_lease(app.state.store, live.id)

    swept = await engine.sweep_orphans()

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
    app: FastAPI, builder: Builder, database: Database
) -> None:
    engine = engine_with(app, [])
    agent = await new_agent(builder, database, "scripted")
    prepared = await engine.prepare(user_id=agent.owner_id, agent=agent, message="!sleep 30")
    task = engine.launch(prepared)
    await asyncio.sleep(0.05)

    await engine.shutdown()

    assert task.done()
    assert task.result().status is ExecutionStatus.CANCELLED


async def test_a_run_cancelled_before_its_first_step_is_recorded_as_cancelled(
    app: FastAPI, builder: Builder, database: Database
) -> None:
    engine = engine_with(app, [])
    agent = await new_agent(builder, database, "scripted")
    prepared = await engine.prepare(user_id=agent.owner_id, agent=agent, message="hello")
    task = engine.launch(prepared)
    task.cancel()  # before the event loop ever runs it, as a cancel racing the start does

    execution = await engine.cancel(prepared.execution_id, owner_id=agent.owner_id)

    assert task.cancelled()
    assert execution.status is ExecutionStatus.CANCELLED
    assert execution.finished_at is not None
