"""Agents, conversations and executions made before organisations go to their creator's workspace."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.core.config import Settings
from app.db.migrate import alembic_config
from app.models import Agent, Conversation, Execution, Membership, Organization, User
from tests.support.databases import temporary_database
from tests.support.old_schema import table_without

POSTGRES_ADMIN_URL = os.environ.get("TEST_DATABASE_URL", "")
LATER = ("organization_id",)


async def _add_creator(engine: AsyncEngine, email: str) -> dict[str, uuid.UUID]:
    """A user with their personal workspace, an agent "Helper", a conversation and a run."""
    ids = {name: uuid.uuid4() for name in ("user", "workspace", "agent", "conversation", "run")}
    async with engine.begin() as connection:
        await connection.execute(
            insert(User).values(id=ids["user"], email=email, hashed_password="x")
        )
        await _add_organization(connection, ids["workspace"], ids["user"], personal=True)
        await connection.execute(
            insert(table_without("agents", *LATER)).values(
                id=ids["agent"],
                owner_id=ids["user"],
                name="Helper",
                provider="scripted",
                model="scripted-echo",
                tools=[],
            )
        )
        await connection.execute(
            insert(table_without("conversations", *LATER)).values(
                id=ids["conversation"], owner_id=ids["user"], agent_id=ids["agent"]
            )
        )
        await connection.execute(
            insert(table_without("executions", *LATER)).values(
                id=ids["run"],
                owner_id=ids["user"],
                agent_id=ids["agent"],
                conversation_id=ids["conversation"],
                input="hello",
            )
        )
    return ids


async def _add_organization(
    connection: Any, organization_id: uuid.UUID, owner_id: uuid.UUID, *, personal: bool
) -> None:
    await connection.execute(
        insert(Organization).values(
            id=organization_id,
            name="Personal" if personal else "Acme",
            personal_for_id=owner_id if personal else None,
        )
    )
    await connection.execute(
        insert(Membership).values(organization_id=organization_id, user_id=owner_id, role="owner")
    )


async def _organizations_of(engine: AsyncEngine) -> dict[uuid.UUID, uuid.UUID]:
    """Each agent's, conversation's and execution's organisation, by row id."""
    async with engine.connect() as connection:
        found: dict[uuid.UUID, uuid.UUID] = {}
        for model in (Agent, Conversation, Execution):
            rows = await connection.execute(select(model.id, model.organization_id))
            found.update(rows.tuples().all())
        return found


async def _agent_names(engine: AsyncEngine, owner_id: uuid.UUID) -> list[str]:
    async with engine.connect() as connection:
        rows = await connection.scalars(
            select(Agent.name).where(Agent.owner_id == owner_id).order_by(Agent.name)
        )
        return list(rows)


async def _add_agent(engine: AsyncEngine, owner_id: uuid.UUID, organization_id: uuid.UUID) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            insert(Agent).values(
                id=uuid.uuid4(),
                organization_id=organization_id,
                owner_id=owner_id,
                name="Helper",
                provider="scripted",
                model="scripted-echo",
                tools=[],
            )
        )


async def _check(url: str) -> None:
    config: Config = alembic_config(Settings(_env_file=None, environment="test", database_url=url))
    await asyncio.to_thread(command.upgrade, config, "0016")
    engine = create_async_engine(url)
    try:
        ada = await _add_creator(engine, "ada@example.com")
        bob = await _add_creator(engine, "bob@example.com")

        await asyncio.to_thread(command.upgrade, config, "head")

        expected = {
            creator[row]: creator["workspace"]
            for creator in (ada, bob)
            for row in ("agent", "conversation", "run")
        }
        assert await _organizations_of(engine) == expected
        # A name is taken once per organisation: again in Ada's workspace it is refused...
        with pytest.raises(IntegrityError):
            await _add_agent(engine, ada["user"], ada["workspace"])
        # ...while in a team she also belongs to, the same name is free.
        team = uuid.uuid4()
        async with engine.begin() as connection:
            await _add_organization(connection, team, ada["user"], personal=False)
        await _add_agent(engine, ada["user"], team)

        await engine.dispose()
        await asyncio.to_thread(command.downgrade, config, "0016")

        # Names were unique per creator before: Ada's second "Helper" is renamed, kept.
        assert await _agent_names(engine, ada["user"]) == ["Helper", "Helper (2)"]
        assert await _agent_names(engine, bob["user"]) == ["Helper"]
    finally:
        await engine.dispose()


async def test_existing_rows_move_to_their_creators_workspace_sqlite(tmp_path: Path) -> None:
    await _check(f"sqlite+aiosqlite:///{tmp_path / 'resources.db'}")


@pytest.mark.postgres
@pytest.mark.skipif(
    not POSTGRES_ADMIN_URL, reason="set TEST_DATABASE_URL to run against PostgreSQL"
)
async def test_existing_rows_move_to_their_creators_workspace_postgres(
    postgres_admin_url: str,
) -> None:
    def scenario() -> None:
        with temporary_database(postgres_admin_url) as url:
            asyncio.run(_check(url))

    await asyncio.to_thread(scenario)
