"""A long conversation on the scripted provider: dropped turns become a stored marker."""

from __future__ import annotations

import uuid

from fastapi import FastAPI

from app.ai.providers.base import Role
from app.ai.providers.registry import ProviderEntry
from app.ai.providers.scripted import ScriptedProvider
from app.ai.runs import RunManager
from app.db.session import Database
from app.models import Agent, Conversation, ExecutionStatus
from tests.support.builders import Builder
from tests.support.run_manager import manager_on, new_agent

# Each turn costs about 105 estimated tokens, so two turns and a summary fill the budget.
TURN = 400
BUDGET = {"history_token_budget": 256, "history_summary_max_tokens": 16}


async def _turn(
    runs: RunManager, agent: Agent, text: str, conversation_id: uuid.UUID | None
) -> uuid.UUID:
    prepared = await runs.prepare(
        user_id=agent.owner_id, agent=agent, message=text, conversation_id=conversation_id
    )
    execution = await runs.run(prepared)
    assert execution.status is ExecutionStatus.COMPLETED, execution.error_message
    return execution.conversation_id


async def _stored(database: Database, conversation_id: uuid.UUID) -> tuple[str | None, int | None]:
    async with database.transaction() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None
        return conversation.summary, conversation.summary_through


async def test_dropped_turns_become_a_stored_marker_that_grows_with_the_conversation(
    app: FastAPI, build: Builder, database: Database
) -> None:
    scripted = ScriptedProvider()
    runs = manager_on(app, [ProviderEntry("scripted", lambda _settings: scripted)], **BUDGET)
    agent = await new_agent(build, database, "scripted")

    conversation_id = await _turn(runs, agent, "a" * TURN, None)
    assert await _stored(database, conversation_id) == (None, None)

    await _turn(runs, agent, "b" * TURN, conversation_id)
    assert await _stored(database, conversation_id) == ("[1 earlier messages omitted]", 1)
    sent = scripted.requests[-1].messages
    assert [(m.role, m.content[:1]) for m in sent if m.role is not Role.SYSTEM] == [
        (Role.ASSISTANT, "["),
        (Role.USER, "b"),
    ]
    assert [m.content for m in sent if m.role is Role.SYSTEM][-1] == "[1 earlier messages omitted]"

    await _turn(runs, agent, "c" * TURN, conversation_id)
    assert await _stored(database, conversation_id) == ("[3 earlier messages omitted]", 3)
    sent = scripted.requests[-1].messages
    assert [m.content for m in sent if m.role is Role.SYSTEM][-1] == "[3 earlier messages omitted]"
    assert [m.content[:1] for m in sent if m.role is Role.USER] == ["c"]
    # The scripted model was asked for answers only, never for a summary.
    assert len(scripted.requests) == 3


async def test_a_conversation_that_fits_sends_no_summary(
    app: FastAPI, build: Builder, database: Database
) -> None:
    scripted = ScriptedProvider()
    runs = manager_on(app, [ProviderEntry("scripted", lambda _settings: scripted)], **BUDGET)
    agent = await new_agent(build, database, "scripted")

    conversation_id = await _turn(runs, agent, "short", None)
    await _turn(runs, agent, "still short", conversation_id)

    assert await _stored(database, conversation_id) == (None, None)
    assert all("omitted" not in m.content for m in scripted.requests[-1].messages)
