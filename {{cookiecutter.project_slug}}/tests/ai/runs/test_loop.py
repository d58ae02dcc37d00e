"""The agent loop: it stops at the iteration bound, however long the model keeps calling tools."""

from __future__ import annotations

from fastapi import FastAPI

from app.db.session import Database
from app.models import ExecutionStatus, MessageRole
from tests.support.builders import Builder
from tests.support.run_manager import CALL, manager_with, new_agent, stored_messages


async def test_tool_loop_stops_at_the_iteration_bound(
    app: FastAPI, build: Builder, database: Database
) -> None:
    runs = manager_with(app, [CALL] * 3, max_tool_iterations=3)
    agent = await new_agent(build, database, "looping")
    prepared = await runs.prepare(user_id=agent.owner_id, agent=agent, message="loop")

    execution = await runs.run(prepared)

    assert execution.status is ExecutionStatus.FAILED
    assert execution.error_type == "max_iterations"
    assert execution.input_tokens == 30
    assert execution.output_tokens == 15
    roles = [m.role for m in await stored_messages(database, execution)]
    assert roles == [MessageRole.USER] + [MessageRole.ASSISTANT, MessageRole.TOOL] * 3
