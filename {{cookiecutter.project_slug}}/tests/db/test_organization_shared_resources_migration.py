"""Rows made before organisations owned them move to their creator's personal workspace.

Workflows, their runs, knowledge bases, memories and MCP connections each get the
organisation; nothing is lost on the way up or back down.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Table, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from app.core.config import Settings
from app.crud import organization as organization_crud
from app.db.migrate import alembic_config
from app.models import User
from tests.support.databases import temporary_database
from tests.support.old_schema import table_without

POSTGRES_ADMIN_URL = os.environ.get("TEST_DATABASE_URL", "")
# The revision before this one: rows are written in the shape it has.
BEFORE = "0017"
OWNED = ("workflows", "workflow_runs", "knowledge_bases", "memories", "mcp_connections")


def _old(name: str) -> Table:
    return table_without(name, "organization_id")


async def _insert(engine: AsyncEngine, table: Table, **values: Any) -> uuid.UUID:
    row_id = uuid.uuid4()
    async with engine.begin() as connection:
        await connection.execute(insert(table).values(id=row_id, **values))
    return row_id


async def _user_with_everything(engine: AsyncEngine, email: str) -> dict[str, uuid.UUID]:
    """A user with their personal workspace and one row of each table this revision moves."""
    async with async_sessionmaker(engine)() as session, session.begin():
        user = User(email=email, hashed_password="x")
        session.add(user)
        await session.flush()
        workspace = await organization_crud.create_personal(session, user_id=user.id)
        ids = {"user": user.id, "workspace": workspace.id}
    owner = ids["user"]
    ids["workflows"] = await _insert(
        engine, _old("workflows"), owner_id=owner, name="flow", version=1, steps=[]
    )
    ids["workflow_runs"] = await _insert(
        engine,
        _old("workflow_runs"),
        owner_id=owner,
        workflow_id=ids["workflows"],
        workflow_version=1,
        definition=[],
        status="waiting",
        input="hello",
    )
    ids["knowledge_bases"] = await _insert(
        engine,
        _old("knowledge_bases"),
        owner_id=owner,
        name="handbook",
        embedding_model="hashing",
        embedding_dimension=3,
    )
    ids["document"] = await _insert(
        engine,
        table_without("knowledge_documents"),
        base_id=ids["knowledge_bases"],
        source_name="leave.md",
        content_type="text/markdown",
        content_hash="0" * 64,
        size_bytes=10,
        status="indexed",
        chunk_count=0,
    )
    ids["memories"] = await _insert(
        engine,
        _old("memories"),
        owner_id=owner,
        text="Prefers tea.",
        embedding_model="hashing",
        dimension=3,
        embedding=[0.6, 0.8, 0.0],
    )
    ids["mcp_connections"] = await _insert(
        engine,
        _old("mcp_connections"),
        owner_id=owner,
        name="tools",
        transport="http",
        url="http://127.0.0.1:9/mcp",
        timeout_seconds=5.0,
    )
    return ids


async def _organizations(engine: AsyncEngine, table: str) -> dict[uuid.UUID, uuid.UUID]:
    """Each row's organisation, by row id."""
    current = table_without(table)
    async with engine.connect() as connection:
        found = await connection.execute(select(current.c.id, current.c.organization_id))
    return {row.id: row.organization_id for row in found}


async def _connection_names(engine: AsyncEngine) -> list[str]:
    table = _old("mcp_connections")
    async with engine.connect() as connection:
        return sorted(await connection.scalars(select(table.c.name)))


async def _check(url: str) -> None:
    config = alembic_config(Settings(_env_file=None, environment="test", database_url=url))
    await asyncio.to_thread(command.upgrade, config, BEFORE)
    engine = create_async_engine(url)
    try:
        ada = await _user_with_everything(engine, "ada@example.com")
        bob = await _user_with_everything(engine, "bob@example.com")

        await asyncio.to_thread(command.upgrade, config, "head")

        for table in OWNED:
            assert await _organizations(engine, table) == {
                ada[table]: ada["workspace"],
                bob[table]: bob["workspace"],
            }, table
        documents = table_without("knowledge_documents")
        async with engine.connect() as connection:
            kept = set(await connection.scalars(select(documents.c.id)))
        assert kept == {ada["document"], bob["document"]}
        # Names are unique per organisation now: Ada's team may have its own "tools".
        async with async_sessionmaker(engine)() as session, session.begin():
            team_id = (
                await organization_crud.create(session, name="Acme", owner_id=ada["user"])
            ).id
        connections = table_without("mcp_connections")
        same = {"owner_id": ada["user"], "name": "tools", "transport": "http", "url": "http://x"}
        await _insert(engine, connections, organization_id=team_id, timeout_seconds=5.0, **same)
        with pytest.raises(IntegrityError):
            await _insert(
                engine,
                connections,
                organization_id=ada["workspace"],
                timeout_seconds=5.0,
                **same,
            )

        await asyncio.to_thread(command.downgrade, config, BEFORE)

        # Ada's two "tools" cannot both keep the name once it is unique per user again.
        assert await _connection_names(engine) == ["tools", "tools", "tools-2"]
        await asyncio.to_thread(command.upgrade, config, "head")
        assert len(await _organizations(engine, "workflows")) == 2
    finally:
        await engine.dispose()


async def test_existing_rows_move_to_their_creators_personal_workspace_sqlite(
    tmp_path: Path,
) -> None:
    await _check(f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}")


@pytest.mark.postgres
@pytest.mark.skipif(
    not POSTGRES_ADMIN_URL, reason="set TEST_DATABASE_URL to run against PostgreSQL"
)
async def test_existing_rows_move_to_their_creators_personal_workspace_postgres(
    postgres_admin_url: str,
) -> None:
    def scenario() -> None:
        with temporary_database(postgres_admin_url) as url:
            asyncio.run(_check(url))

    await asyncio.to_thread(scenario)
