"""`make audit-verify` as an operator runs it: exit 0 on an intact log, 1 at a broken link."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import update

from app.core.config import Settings
from app.crud import audit as audit_crud
from app.db.session import Database
from app.models import AuditEntry
from tests.cli.conftest import RunCommand


@pytest.fixture
async def command_db(settings: Settings, command_database: str) -> AsyncIterator[Database]:
    """The command's own database, opened as the application opens it."""
    database = Database(settings.model_copy(update={"database_url": command_database}))
    try:
        yield database
    finally:
        await database.dispose()


async def test_an_intact_log_passes_and_an_edited_row_fails_with_its_place(
    run_command: RunCommand, command_db: Database
) -> None:
    empty = run_command("audit_verify")
    assert empty.returncode == 0, empty.stderr
    assert "Audit log intact: 0 entries in 0 chains." in empty.stdout
    organization = uuid.uuid4()
    entries = []
    for _ in range(3):
        async with command_db.transaction() as session:
            entry = await audit_crud.record(
                session, action="auth.login", organization_id=organization, actor_id=None
            )
        entries.append(entry)
    intact = run_command("audit_verify")
    assert intact.returncode == 0, intact.stderr
    assert "Audit log intact: 3 entries in 1 chain." in intact.stdout

    async with command_db.transaction() as session:
        await session.execute(
            update(AuditEntry).where(AuditEntry.id == entries[1].id).values(action="auth.logout")
        )
    broken = run_command("audit_verify")

    assert broken.returncode == 1
    assert (
        f"chain {organization}, sequence 2, entry {entries[1].id}: stored entry_hash"
        in broken.stderr
    )
