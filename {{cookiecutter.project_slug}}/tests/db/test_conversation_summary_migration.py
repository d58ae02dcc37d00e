"""The summary columns come and go without touching the conversations that carry them."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from alembic import command
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from app.core.config import Settings
from app.crud import organization as organization_crud
from app.db.migrate import alembic_config
from app.models import Agent, Conversation, User


async def _add_summarised_conversation(url: str) -> uuid.UUID:
    engine = create_async_engine(url)
    try:
        async with async_sessionmaker(engine)() as session, session.begin():
            user = User(email="ada@example.com", hashed_password="x")
            session.add(user)
            await session.flush()
            workspace = await organization_crud.create_personal(session, user_id=user.id)
            agent = Agent(
                organization_id=workspace.id,
                owner_id=user.id,
                name="helper",
                provider="scripted",
                model="scripted-echo",
                tools=[],
                knowledge_bases=[],
            )
            session.add(agent)
            await session.flush()
            conversation = Conversation(
                organization_id=workspace.id,
                owner_id=user.id,
                agent_id=agent.id,
                title="Long talk",
                summary="They spoke of a.",
                summary_through=7,
            )
            session.add(conversation)
            await session.flush()
            return conversation.id
    finally:
        await engine.dispose()


async def _read(url: str, conversation_id: uuid.UUID) -> tuple[str, str | None, int | None]:
    engine = create_async_engine(url)
    try:
        async with async_sessionmaker(engine)() as session:
            conversation = await session.get(Conversation, conversation_id)
            assert conversation is not None
            return conversation.title, conversation.summary, conversation.summary_through
    finally:
        await engine.dispose()


async def test_a_summary_survives_upgrades_and_a_downgrade_keeps_the_conversation(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'summaries.db'}"
    config = alembic_config(Settings(_env_file=None, environment="test", database_url=url))
    await asyncio.to_thread(command.upgrade, config, "head")
    conversation_id = await _add_summarised_conversation(url)
    assert await _read(url, conversation_id) == ("Long talk", "They spoke of a.", 7)

    await asyncio.to_thread(command.downgrade, config, "0011")
    await asyncio.to_thread(command.upgrade, config, "head")

    assert await _read(url, conversation_id) == ("Long talk", None, None)
