"""What a run stores: every message as it happens, so a failure loses nothing already done."""

from __future__ import annotations

import uuid

from dbos import DBOS
from fastapi import FastAPI

from app.ai.providers.base import ProviderError, ProviderErrorKind
from app.ai.runs import RunManager, persistence
from app.ai.runs.types import PreparedRun
from app.db.session import Database
from app.models import Agent, Execution, ExecutionStatus, MessageRole
from tests.support.builders import Builder
from tests.support.run_manager import CALL, manager_with, new_agent, stored_messages
from tests.support.statements import StatementLog, counting_statements

# Statements a run may send, by database: PostgreSQL also locks the conversation row
# before each message it appends to a conversation others may write to. Each counts the
# one read of the user's budget limits before the run's first model call.
ONE_TURN = {"sqlite": 7, "postgresql": 8}
LATER_TURN = {"sqlite": 7, "postgresql": 9}
# A tool step audits its calls in three more: take the chain's head, insert, move the head
# (two more again when the chain's head is first created).
TOOL_RUN = {"sqlite": 9 + 5, "postgresql": 12 + 5}
CALCULATE = '!tool calculator {"expression": "6*7"}'


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


async def _counted_run(
    runs: RunManager,
    database: Database,
    agent: Agent,
    message: str,
    conversation_id: uuid.UUID | None = None,
) -> tuple[Execution, StatementLog]:
    with counting_statements(database) as log:
        prepared = await runs.prepare(
            user_id=agent.owner_id, agent=agent, message=message, conversation_id=conversation_id
        )
        execution = await runs.run(prepared)
    assert execution.status is ExecutionStatus.COMPLETED, execution.error_message
    return execution, log


async def test_a_one_turn_run_commits_three_times_in_a_handful_of_statements(
    app: FastAPI, build: Builder, database: Database
) -> None:
    runs = manager_with(app, [])
    agent = await new_agent(build, database, "scripted")

    execution, log = await _counted_run(runs, database, agent, "hello")

    # The pending run, its start, and the answer with the outcome.
    assert log.commits == 3, str(log)
    assert len(log) <= ONE_TURN[database.engine.dialect.name], str(log)
    messages = await stored_messages(database, execution)
    assert [(m.role, m.content, m.incomplete) for m in messages] == [
        (MessageRole.USER, "hello", False),
        (MessageRole.ASSISTANT, "[scripted] hello", False),
    ]


async def test_a_later_turn_reads_the_history_in_the_transaction_that_starts_it(
    app: FastAPI, build: Builder, database: Database
) -> None:
    runs = manager_with(app, [])
    agent = await new_agent(build, database, "scripted")
    first, _ = await _counted_run(runs, database, agent, "first")

    second, log = await _counted_run(
        runs, database, agent, "second", conversation_id=first.conversation_id
    )

    assert log.commits == 3, str(log)
    assert len(log) <= LATER_TURN[database.engine.dialect.name], str(log)
    messages = await stored_messages(database, second)
    assert [m.content for m in messages] == [
        "first",
        "[scripted] first",
        "second",
        "[scripted] second",
    ]
    assert [m.sequence for m in messages] == [1, 2, 3, 4]


async def test_a_tool_run_stores_each_step_as_it_happens_in_few_statements(
    app: FastAPI, build: Builder, database: Database
) -> None:
    runs = manager_with(app, [])
    agent = await new_agent(build, database, "scripted")

    execution, log = await _counted_run(runs, database, agent, f"{CALCULATE}\n{CALCULATE}")

    # The pending run, its start, the call, both results together, the answer and outcome.
    assert log.commits == 5, str(log)
    assert len(log) <= TOOL_RUN[database.engine.dialect.name], str(log)
    messages = await stored_messages(database, execution)
    assert [m.role for m in messages] == [
        MessageRole.USER,
        MessageRole.ASSISTANT,
        MessageRole.TOOL,
        MessageRole.TOOL,
        MessageRole.ASSISTANT,
    ]
    assert [m.tool_call_id for m in messages[2:4]] == ["call_1", "call_2"]
    assert [m.sequence for m in messages] == [1, 2, 3, 4, 5]
    assert execution.output == "[scripted] calculator -> 42\ncalculator -> 42"


async def _recorded_steps(runs: RunManager, prepared: PreparedRun) -> list[str]:
    """The steps the durable engine recorded for the run, launched as the API launches it."""
    execution = await runs.launch(prepared)
    assert execution.status is ExecutionStatus.COMPLETED, execution.error_message
    steps = await DBOS.list_workflow_steps_async(str(execution.id))
    return [step["function_name"] for step in steps]


async def test_a_run_records_only_what_it_could_not_do_again_alike(
    app: FastAPI, build: Builder, database: Database
) -> None:
    """A new conversation's start and every outcome are safe to repeat, so cost no records."""
    runs: RunManager = app.state.runs
    agent = await new_agent(build, database, "scripted")
    first = await runs.prepare(user_id=agent.owner_id, agent=agent, message="first")
    assert await _recorded_steps(runs, first) == ["model_call"]

    later = await runs.prepare(
        user_id=agent.owner_id,
        agent=agent,
        message="second",
        conversation_id=first.conversation_id,
    )
    # A later turn reads its history, which the run's own messages would change on a resume.
    assert await _recorded_steps(runs, later) == ["record_start", "model_call"]


async def test_starting_a_run_again_keeps_its_start_time_and_any_outcome(
    app: FastAPI, build: Builder, database: Database
) -> None:
    runs = manager_with(app, [])
    agent = await new_agent(build, database, "scripted")
    prepared = await runs.prepare(user_id=agent.owner_id, agent=agent, message="go")

    first = await persistence.start(database, prepared)
    began = await persistence.read_execution(database, prepared.execution_id, organization_id=None)
    again = await persistence.start(database, prepared)
    assert again == first
    assert began is not None
    resumed = await persistence.read_execution(
        database, prepared.execution_id, organization_id=None
    )
    assert resumed is not None
    assert (resumed.status, resumed.started_at) == (ExecutionStatus.RUNNING, began.started_at)

    ended = await runs.run(prepared)
    await persistence.start(database, prepared)
    after = await persistence.read_execution(database, prepared.execution_id, organization_id=None)
    assert after is not None
    assert (after.status, after.finished_at) == (ExecutionStatus.COMPLETED, ended.finished_at)
