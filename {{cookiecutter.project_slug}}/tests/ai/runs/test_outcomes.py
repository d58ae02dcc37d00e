"""A run's outcome as stored: the first one counts, with its one reply; orphans failed."""

from __future__ import annotations

import uuid

from fastapi import FastAPI

from app.ai.providers.base import Completion
from app.ai.runs import outcomes, persistence
from app.ai.runs.types import Draft
from app.db.session import Database
from app.models import Execution, ExecutionStatus, MessageRole
from tests.support.builders import Builder
from tests.support.run_manager import manager_with, new_agent, stored_messages


async def test_a_run_ended_by_another_process_keeps_its_outcome_and_its_one_reply(
    app: FastAPI, build: Builder, database: Database
) -> None:
    runs = manager_with(app, [])
    agent = await new_agent(build, database, "scripted")
    prepared = await runs.prepare(user_id=agent.owner_id, agent=agent, message="go")
    await persistence.start(database, prepared)

    async def finish(text: str) -> Execution:
        draft = Draft(final=Completion(content=text, model="fake"))
        changes = {"status": ExecutionStatus.COMPLETED, "output": text}
        return await outcomes.finish(database, prepared, draft, changes)

    first = await finish("first answer")
    second = await finish("second answer")  # a process that took the run for lost

    assert first.output == second.output == "first answer"
    messages = await stored_messages(database, first)
    assert [(m.role, m.content) for m in messages] == [
        (MessageRole.USER, "go"),
        (MessageRole.ASSISTANT, "first answer"),
    ]


async def test_failing_orphans_leaves_runs_that_ended_or_vanished_while_it_looked(
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
