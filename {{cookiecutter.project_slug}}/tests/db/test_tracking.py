"""A transaction commits only what it wrote, and reports the rows its writes changed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, select, text, update

from app.crud import user as user_crud
from app.db.session import Database
from app.db.tracking import RowChange
from app.models import User


@dataclass
class Traffic:
    """What the engine sent: statements, commits, and connections checked out."""

    statements: list[str] = field(default_factory=list)
    commits: int = 0
    checkouts: int = 0


@contextmanager
def traffic(database: Database) -> Iterator[Traffic]:
    seen = Traffic()
    engine = database.engine.sync_engine

    def statement(*args: Any) -> None:
        seen.statements.append(str(args[2]))

    def commit(_connection: Any) -> None:
        seen.commits += 1

    def checkout(*_args: Any) -> None:
        seen.checkouts += 1

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    event.listen(engine.pool, "checkout", checkout)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)
        event.remove(engine.pool, "checkout", checkout)


async def _user(database: Database) -> User:
    async with database.transaction() as session:
        return await user_crud.create(
            session, email=f"{uuid.uuid4().hex[:10]}@example.com", hashed_password="x"
        )


async def _name(database: Database, user_id: uuid.UUID) -> str | None:
    async with database.transaction() as session:
        return await session.scalar(select(User.full_name).where(User.id == user_id))


async def test_a_transaction_that_runs_nothing_touches_no_connection(database: Database) -> None:
    with traffic(database) as seen:
        async with database.transaction():
            pass
    assert seen == Traffic()


async def test_a_read_only_transaction_ends_without_a_commit(database: Database) -> None:
    user = await _user(database)
    with traffic(database) as seen:
        async with database.transaction() as session:
            assert await user_crud.get(session, user_id=user.id) is not None
    assert seen.commits == 0
    assert len(seen.statements) == 1


async def test_orm_changes_are_committed(database: Database) -> None:
    user = await _user(database)
    async with database.transaction() as session:
        loaded = await user_crud.get(session, user_id=user.id)
        assert loaded is not None
        loaded.full_name = "Pending"  # never flushed by the block itself
    assert await _name(database, user.id) == "Pending"


async def test_update_statements_are_committed(database: Database) -> None:
    user = await _user(database)
    async with database.transaction() as session:
        await session.execute(update(User).where(User.id == user.id).values(full_name="Bulk"))
    assert await _name(database, user.id) == "Bulk"


async def test_text_statements_count_as_writes(database: Database) -> None:
    user = await _user(database)
    async with database.transaction() as session:
        await session.execute(
            text("UPDATE users SET full_name = 'Raw' WHERE email = :email"), {"email": user.email}
        )
    assert await _name(database, user.id) == "Raw"


async def test_a_raw_connection_counts_as_a_write(database: Database) -> None:
    user = await _user(database)
    with traffic(database) as seen:
        async with database.transaction() as session:
            connection = await session.connection()
            await connection.execute(select(User.id).where(User.id == user.id))
    assert seen.commits == 1


async def test_listeners_hear_which_rows_changed(database: Database) -> None:
    heard: list[frozenset[RowChange]] = []

    async def listen(changes: frozenset[RowChange]) -> None:
        heard.append(changes)

    database.on_change(listen)
    try:
        user = await _user(database)
        async with database.transaction() as session:
            loaded = await user_crud.get(session, user_id=user.id)
            assert loaded is not None
            await user_crud.update(session, user=loaded, changes={"full_name": "New"})
        async with database.transaction() as session:
            await session.execute(update(User).values(full_name="Everyone"))
        async with database.transaction() as session:
            await user_crud.get(session, user_id=user.id)
    finally:
        database._listeners.remove(listen)
    assert heard == [
        frozenset({RowChange("users", user.id)}),
        frozenset({RowChange("users")}),
    ]
