"""Run managers on the test application's parts, driven by a scripted provider."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from fastapi import FastAPI
from sqlalchemy import select

from app.ai.providers.base import Completion, FinishReason, ProviderError, ToolCall, Usage
from app.ai.providers.factory import ProviderFactory
from app.ai.providers.registry import ProviderEntry, ProviderRegistry
from app.ai.providers.scripted import ScriptedProvider
from app.ai.runs import RunManager
from app.core.config import Settings
from app.db.session import Database
from app.models import Agent, Execution, ExecutionStatus, Message
from tests.support.builders import Builder, add_user

CALL = Completion(
    content="",
    model="looping",
    usage=Usage(10, 5),
    finish_reason=FinishReason.TOOL_CALLS,
    tool_calls=(ToolCall(id="c1", name="calculator", arguments={"expression": "1+1"}),),
)


def manager_with(
    app: FastAPI, script: Iterable[Completion | ProviderError], **overrides: object
) -> RunManager:
    """A run manager on the app's database, store and tools, with a scripted provider."""
    provider = ScriptedProvider(script=script)
    return manager_on(
        app,
        [
            ProviderEntry("looping", lambda _settings: provider),
            ProviderEntry("scripted", lambda _settings: ScriptedProvider()),
        ],
        **overrides,
    )


def manager_on(app: FastAPI, providers: list[ProviderEntry], **overrides: object) -> RunManager:
    """A run manager on the app's database, store and tools, with these providers only."""
    settings: Settings = app.state.settings.model_copy(update=overrides)
    return RunManager(
        settings=settings,
        database=app.state.database,
        store=app.state.store,
        providers=ProviderFactory(settings, ProviderRegistry(providers)),
        tools=app.state.tools,
        tool_manager=app.state.tool_manager,
    )


async def new_agent(builder: Builder, database: Database, provider: str) -> Agent:
    """A new user's agent on `provider`, allowed the calculator."""
    async with database.transaction() as session:
        owner = await add_user(session)
    return await builder.agent(owner_id=owner.id, provider=provider, tools=["calculator"])


async def stored_messages(database: Database, execution: Execution) -> list[Message]:
    """Every message of the execution's conversation, in order."""
    async with database.transaction() as session:
        rows = await session.scalars(
            select(Message)
            .where(Message.conversation_id == execution.conversation_id)
            .order_by(Message.sequence)
        )
        return list(rows.all())


async def status_of(database: Database, execution_id: uuid.UUID) -> ExecutionStatus | None:
    """The run's stored status; None once its row is gone."""
    async with database.transaction() as session:
        row = await session.get(Execution, execution_id)
        return None if row is None else row.status
