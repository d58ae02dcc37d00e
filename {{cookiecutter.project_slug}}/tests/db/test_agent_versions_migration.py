"""Adding agent versions keeps each existing agent's settings as its current version."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from app.core.config import Settings
from app.db.migrate import alembic_config
from app.models import AgentVersion, User
from tests.support.old_schema import table_without


async def test_existing_agents_get_their_current_version(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'versions.db'}"
    config = alembic_config(Settings(_env_file=None, environment="test", database_url=url))
    await asyncio.to_thread(command.upgrade, config, "0008")
    engine = create_async_engine(url)
    try:
        async with async_sessionmaker(engine)() as session, session.begin():
            user = User(email="ada@example.com", hashed_password="x")
            session.add(user)
            await session.flush()
            await session.execute(
                insert(table_without("agents", "guardrails")).values(
                    owner_id=user.id,
                    name="Helper",
                    system_prompt="Be brief.",
                    provider="scripted",
                    model="scripted-echo",
                    temperature=0.4,
                    max_tokens=50,
                    tools=["calculator"],
                    version=3,
                )
            )

        await asyncio.to_thread(command.upgrade, config, "head")

        async with async_sessionmaker(engine)() as session:
            rows = (await session.scalars(select(AgentVersion))).all()
    finally:
        await engine.dispose()
    assert [(row.version, row.rolled_back_from) for row in rows] == [(3, None)]
    assert rows[0].settings == {
        "system_prompt": "Be brief.",
        "provider": "scripted",
        "model": "scripted-echo",
        "temperature": 0.4,
        "max_tokens": 50,
        "tools": ["calculator"],
    }
