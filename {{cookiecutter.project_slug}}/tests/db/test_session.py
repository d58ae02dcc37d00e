"""Background work queues for the database instead of failing, and leaves room for requests."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from app.core.config import Settings
from app.db.session import Database, background_slots
from tests.support.waiting import wait_for


def _postgres_settings(pool_size: int, max_overflow: int) -> Settings:
    return Settings(
        _env_file=None,
        environment="test",
        database_url="postgresql+asyncpg://user@127.0.0.1:5432/app",
        database_pool_size=pool_size,
        database_max_overflow=max_overflow,
    )


def test_a_third_of_the_pool_stays_free_for_requests() -> None:
    assert background_slots(_postgres_settings(5, 10)) == 10
    assert background_slots(_postgres_settings(1, 0)) == 1
    assert background_slots(_postgres_settings(30, 0)) == 20


def test_sqlite_takes_background_writes_one_at_a_time() -> None:
    sqlite = Settings(
        _env_file=None, environment="test", database_url="sqlite+aiosqlite:///data/app.db"
    )
    assert background_slots(sqlite) == 1


async def test_background_transactions_wait_their_turn_and_all_complete(
    database: Database,
) -> None:
    background = database.for_background()
    slots = background.background_slots
    inside = 0
    most_inside = 0
    release = asyncio.Event()

    async def work() -> int:
        nonlocal inside, most_inside
        async with background.transaction() as session:
            inside += 1
            most_inside = max(most_inside, inside)
            await release.wait()
            value = await session.scalar(text("SELECT 1"))
            inside -= 1
            return int(value or 0)

    tasks = [asyncio.create_task(work()) for _ in range(slots + 3)]
    await wait_for(lambda: inside == slots, message="background work never started")
    release.set()
    results = await asyncio.gather(*tasks)

    assert most_inside == slots
    assert results == [1] * (slots + 3)


async def test_the_request_path_is_not_queued(database: Database) -> None:
    background = database.for_background()
    async with background.transaction(), database.transaction() as session:
        assert await session.scalar(text("SELECT 1")) == 1
