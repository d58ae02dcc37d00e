"""Making agent names unique keeps every agent: later duplicates get a numbered name."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic import command
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from app.core.config import Settings
from app.db.migrate import alembic_config
from app.models import Agent, User
from tests.support.old_schema import table_without

START = datetime(2026, 1, 1, tzinfo=UTC)


async def _add_agents(url: str, names: list[tuple[str, str]]) -> None:
    """Users by email, each with agents in the order given, one minute apart."""
    engine = create_async_engine(url)
    try:
        async with async_sessionmaker(engine)() as session, session.begin():
            owners: dict[str, User] = {}
            for minute, (email, name) in enumerate(names):
                if email not in owners:
                    owners[email] = User(email=email, hashed_password="x")
                    session.add(owners[email])
                    await session.flush()
                created = START + timedelta(minutes=minute)
                await session.execute(
                    insert(table_without("agents", "guardrails")).values(
                        owner_id=owners[email].id,
                        name=name,
                        provider="scripted",
                        model="scripted-echo",
                        tools=[],
                        created_at=created,
                        updated_at=created,
                    )
                )
    finally:
        await engine.dispose()


async def _names(url: str) -> list[tuple[str, str]]:
    engine = create_async_engine(url)
    try:
        async with async_sessionmaker(engine)() as session:
            rows = await session.execute(
                select(User.email, Agent.name)
                .join(Agent, Agent.owner_id == User.id)
                .order_by(Agent.created_at)
            )
            return [(email, name) for email, name in rows]
    finally:
        await engine.dispose()


async def test_duplicate_names_are_numbered_oldest_first(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'names.db'}"
    config = alembic_config(Settings(_env_file=None, environment="test", database_url=url))
    await asyncio.to_thread(command.upgrade, config, "0005")
    await _add_agents(
        url,
        [
            ("ada@example.com", "Helper"),
            ("ada@example.com", "Helper (2)"),
            ("ada@example.com", "Helper"),
            ("ada@example.com", "Helper"),
            ("bob@example.com", "Helper"),
        ],
    )

    await asyncio.to_thread(command.upgrade, config, "head")

    assert await _names(url) == [
        ("ada@example.com", "Helper"),
        ("ada@example.com", "Helper (2)"),
        ("ada@example.com", "Helper (3)"),
        ("ada@example.com", "Helper (4)"),
        ("bob@example.com", "Helper"),
    ]
