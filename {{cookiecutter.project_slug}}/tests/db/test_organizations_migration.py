"""Users who existed before organisations each get a personal workspace they own."""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Column, MetaData, String, Table, Uuid, insert, select
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.config import Settings
from app.db.migrate import alembic_config
from app.db.types import UTCDateTime
from app.models import Membership, Organization
from tests.support.databases import temporary_database

POSTGRES_ADMIN_URL = os.environ.get("TEST_DATABASE_URL", "")
# The users table as revision 0012 has it, so the test does not depend on today's models.
USERS = Table(
    "users",
    MetaData(),
    Column("id", Uuid()),
    Column("email", String(320)),
    Column("hashed_password", String(255)),
    Column("role", String(16)),
    Column("is_active"),
    Column("token_version"),
    Column("created_at", UTCDateTime()),
    Column("updated_at", UTCDateTime()),
)


async def _add_users(url: str, emails: list[str]) -> dict[uuid.UUID, str]:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    rows: list[dict[str, Any]] = [
        {
            "id": uuid.uuid4(),
            "email": email,
            "hashed_password": "x",
            "role": "user",
            "is_active": True,
            "token_version": 0,
            "created_at": now,
            "updated_at": now,
        }
        for email in emails
    ]
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(insert(USERS), rows)
    finally:
        await engine.dispose()
    return {row["id"]: row["email"] for row in rows}


async def _workspaces(url: str) -> set[tuple[uuid.UUID, str, str, bool]]:
    """(user, organisation name, role, personal for that user) for every membership."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(
                    Membership.user_id,
                    Organization.name,
                    Membership.role,
                    Organization.personal_for_id == Membership.user_id,
                ).join(Organization, Organization.id == Membership.organization_id)
            )
            return {(user, name, str(role), bool(own)) for user, name, role, own in rows}
    finally:
        await engine.dispose()


async def _check(url: str) -> None:
    config = alembic_config(Settings(_env_file=None, environment="test", database_url=url))
    await asyncio.to_thread(command.upgrade, config, "0012")
    users = await _add_users(url, ["ada@example.com", "bob@example.com"])

    await asyncio.to_thread(command.upgrade, config, "head")

    assert await _workspaces(url) == {(user, "Personal", "owner", True) for user in users}
    await asyncio.to_thread(command.downgrade, config, "0012")
    await asyncio.to_thread(command.upgrade, config, "head")
    assert len(await _workspaces(url)) == len(users)


async def test_every_existing_user_owns_a_personal_workspace_sqlite(tmp_path: Path) -> None:
    await _check(f"sqlite+aiosqlite:///{tmp_path / 'orgs.db'}")


@pytest.mark.postgres
@pytest.mark.skipif(
    not POSTGRES_ADMIN_URL, reason="set TEST_DATABASE_URL to run against PostgreSQL"
)
async def test_every_existing_user_owns_a_personal_workspace_postgres(
    postgres_admin_url: str,
) -> None:
    def scenario() -> None:
        with temporary_database(postgres_admin_url) as url:
            asyncio.run(_check(url))

    await asyncio.to_thread(scenario)
