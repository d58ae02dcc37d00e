"""Rows written straight to the database, for state the public API cannot create.

The `add_*` functions work inside a session the test already holds (crud tests).
`Builder` wraps each in its own committed transaction, so API tests can arrange rows
that the application's own sessions then see.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.crud import agent_version as version_crud
from app.crud import message as message_crud
from app.crud import organization as organization_crud
from app.db.base import Base
from app.db.session import Database
from app.db.types import utc_now
from app.models import (
    Agent,
    Conversation,
    Execution,
    ExecutionStatus,
    Message,
    MessageRole,
    User,
)

NOT_A_PASSWORD_HASH = "not-a-password-hash"


def minutes_ago(minutes: float) -> datetime:
    """A distinct, ordered creation time, so ordering tests never depend on clock resolution."""
    return utc_now() - timedelta(minutes=minutes)


async def add_user(session: AsyncSession, *, email: str | None = None) -> User:
    user = User(
        email=email or f"user-{uuid.uuid4().hex[:12]}@example.com",
        hashed_password=NOT_A_PASSWORD_HASH,
    )
    session.add(user)
    await session.flush()
    await organization_crud.create_personal(session, user_id=user.id)
    return user


async def workspace_of(session: AsyncSession, user: User) -> uuid.UUID:
    """The user's personal organisation, where their rows go unless a test says otherwise."""
    organization_id = await organization_crud.get_personal_id(session, user_id=user.id)
    assert organization_id is not None
    return organization_id


async def add_agent(session: AsyncSession, *, owner_id: uuid.UUID, **fields: Any) -> Agent:
    """An agent made by `owner_id`, in their personal workspace unless `organization_id` says."""
    if "organization_id" not in fields:
        fields["organization_id"] = await organization_crud.get_personal_id(
            session, user_id=owner_id
        )
    values: dict[str, Any] = {
        "name": f"agent-{uuid.uuid4().hex[:8]}",
        "provider": "scripted",
        "model": "scripted-echo",
        "tools": [],
        "version": 1,
        # Set, not left to a lazy load that an async session cannot run.
        "knowledge_bases": [],
    }
    agent = Agent(owner_id=owner_id, **(values | fields))
    session.add(agent)
    await session.flush()
    await version_crud.record(session, agent=agent)
    return agent


async def add_conversation(session: AsyncSession, *, agent: Agent, **fields: Any) -> Conversation:
    values: dict[str, Any] = {"title": "A conversation", "meta": {}}
    conversation = Conversation(
        organization_id=agent.organization_id,
        owner_id=agent.owner_id,
        agent_id=agent.id,
        **(values | fields),
    )
    session.add(conversation)
    await session.flush()
    return conversation


async def add_message(
    session: AsyncSession,
    *,
    conversation: Conversation,
    role: MessageRole = MessageRole.USER,
    content: str = "hello",
    **fields: Any,
) -> Message:
    return await message_crud.append(
        session, conversation_id=conversation.id, role=role, content=content, **fields
    )


async def add_execution(
    session: AsyncSession,
    *,
    conversation: Conversation,
    status: ExecutionStatus = ExecutionStatus.PENDING,
    **fields: Any,
) -> Execution:
    values: dict[str, Any] = {"input": "hello"}
    execution = Execution(
        organization_id=conversation.organization_id,
        owner_id=conversation.owner_id,
        agent_id=conversation.agent_id,
        conversation_id=conversation.id,
        status=status,
        **(values | fields),
    )
    session.add(execution)
    await session.flush()
    return execution


async def count_rows(session: AsyncSession, model: type[Base]) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


class Builder:
    """The `add_*` helpers, each committed at once so the application sees the rows."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def agent(self, *, owner_id: uuid.UUID, **fields: Any) -> Agent:
        async with self.database.transaction() as session:
            return await add_agent(session, owner_id=owner_id, **fields)

    async def conversation(self, *, agent: Agent, **fields: Any) -> Conversation:
        async with self.database.transaction() as session:
            return await add_conversation(session, agent=agent, **fields)

    async def message(self, *, conversation: Conversation, **fields: Any) -> Message:
        async with self.database.transaction() as session:
            return await add_message(session, conversation=conversation, **fields)

    async def execution(self, *, conversation: Conversation, **fields: Any) -> Execution:
        async with self.database.transaction() as session:
            return await add_execution(session, conversation=conversation, **fields)

    async def count(self, model: type[Base]) -> int:
        async with self.database.transaction() as session:
            return await count_rows(session, model)

    async def fetch_agent(self, agent_id: uuid.UUID) -> Agent | None:
        """The stored row, bypassing organisation scoping, to prove what a request did not change."""
        async with self.database.transaction() as session:
            return await session.get(Agent, agent_id)

    async def fetch_conversation(self, conversation_id: uuid.UUID) -> Conversation | None:
        async with self.database.transaction() as session:
            return await session.get(Conversation, conversation_id)
