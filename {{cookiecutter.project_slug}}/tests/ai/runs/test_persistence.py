"""What a run stores: every message as it happens, so a failure loses nothing already done."""

from __future__ import annotations

from fastapi import FastAPI

from app.ai.providers.base import ProviderError, ProviderErrorKind
from app.db.session import Database
from app.models import ExecutionStatus, MessageRole
from tests.support.builders import Builder
from tests.support.run_manager import CALL, manager_with, new_agent, stored_messages


async def test_a_failure_mid_run_keeps_every_stored_message_and_the_usage(
    app: FastAPI, build: Builder, database: Database
) -> None:
    failure = ProviderError("looping", ProviderErrorKind.UNAVAILABLE, "upstream returned 503")
    runs = manager_with(app, [CALL, failure])
    agent = await new_agent(build, database, "looping")
    prepared = await runs.prepare(user_id=agent.owner_id, agent=agent, message="go")

    execution = await runs.run(prepared)

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
