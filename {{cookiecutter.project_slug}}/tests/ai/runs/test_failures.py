"""What a run stores is safe to show and to store: no internals in errors, no unstorable text."""

from __future__ import annotations

import structlog
from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError

from app.ai.providers.base import Completion, CompletionRequest, FinishReason, ToolCall
from app.ai.providers.registry import ProviderEntry
from app.ai.providers.scripted import ScriptedProvider
from app.ai.runs import RunManager
from app.core.logging import captured_events
from app.db.session import Database
from app.models import ExecutionStatus
from tests.support.builders import Builder
from tests.support.run_manager import manager_on, manager_with, new_agent, stored_messages

LEAKED_SQL = "INSERT INTO users (email, hashed_password) VALUES ($1, $2)"
LEAKED_HASH = "$2b$12$abcdefghijklmnopqrstuv"


class DatabaseCrashProvider(ScriptedProvider):
    """Fails the way a broken query deep in a run does: with the statement in the message."""

    async def complete(self, request: CompletionRequest) -> Completion:
        raise IntegrityError(LEAKED_SQL, ("ada@example.com", LEAKED_HASH), Exception("dup"))


def _manager(app: FastAPI) -> RunManager:
    return manager_on(app, [ProviderEntry("crashing", lambda _s: DatabaseCrashProvider())])


async def test_a_crash_stores_no_sql_and_logs_it_with_the_request_id(
    app: FastAPI, build: Builder, database: Database
) -> None:
    runs = _manager(app)
    agent = await new_agent(build, database, "crashing")
    structlog.contextvars.bind_contextvars(request_id="req-crash-1")
    try:
        with captured_events() as logged:
            prepared = await runs.prepare(user_id=agent.owner_id, agent=agent, message="hi")
            execution = await runs.launch(prepared)
    finally:
        structlog.contextvars.unbind_contextvars("request_id")

    assert execution.status is ExecutionStatus.FAILED
    assert execution.error_type == "internal_error"
    assert execution.error_message == (
        "The run failed because of an internal error (request id req-crash-1)"
    )
    [event] = [line for line in logged if line["event"] == "execution_crashed"]
    assert event["request_id"] == "req-crash-1"
    # The traceback is logged, with the statement and without the bound values.
    assert LEAKED_SQL in event["exception"]
    assert LEAKED_HASH not in event["exception"]


async def test_text_a_model_sends_that_no_database_stores_is_cleaned_not_fatal(
    app: FastAPI, build: Builder, database: Database
) -> None:
    reply = Completion(
        content="ok\x00 then \ud800 done",
        model="looping",
        tool_calls=(ToolCall(id="c\x00", name="calculator", arguments={"expression": "1+1\x00"}),),
        finish_reason=FinishReason.TOOL_CALLS,
    )
    runs = manager_with(app, [reply, Completion(content="fin\x00al", model="looping")])
    agent = await new_agent(build, database, "looping")
    prepared = await runs.prepare(user_id=agent.owner_id, agent=agent, message="hi")

    execution = await runs.run(prepared)

    assert execution.status is ExecutionStatus.COMPLETED
    assert execution.output == "final"
    messages = await stored_messages(database, execution)
    assert messages[1].content == "ok then \ufffd done"
    assert messages[1].tool_calls[0]["arguments"] == {"expression": "1+1"}
    assert messages[2].tool_call_id == "c"
    assert all("\x00" not in (m.content or "") for m in messages)
