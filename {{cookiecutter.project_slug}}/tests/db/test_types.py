"""Portable column types: aware UTC datetimes, JSON and string enums on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, type_coerce
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from app.crud import user as user_crud
from app.db.types import PortableJSON, UTCDateTime, str_enum, utc_now


class Colour(StrEnum):
    RED = "red"
    DARK_BLUE = "dark-blue"


metadata = MetaData()
samples = Table(
    f"type_samples_{uuid.uuid4().hex[:8]}",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime(), nullable=True),
    Column("doc", PortableJSON, nullable=True),
    Column("colour", str_enum(Colour), nullable=True),
)


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
    ]
)
async def engine(
    request: pytest.FixtureRequest, tmp_path: Path, database_url: str
) -> AsyncIterator[AsyncEngine]:
    """A scratch table on a SQLite file, and on the PostgreSQL test database when there is one."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'types.db'}"
    elif os.environ.get("TEST_DATABASE_URL"):
        url = database_url
    else:
        pytest.skip("set TEST_DATABASE_URL to run against PostgreSQL")
    scratch = create_async_engine(url)
    async with scratch.begin() as connection:
        await connection.run_sync(metadata.create_all)
    try:
        yield scratch
    finally:
        async with scratch.begin() as connection:
            await connection.run_sync(metadata.drop_all)
        await scratch.dispose()


async def _round_trip(engine: AsyncEngine, **values: Any) -> Any:
    async with engine.begin() as connection:
        row_id = (await connection.execute(insert(samples).values(**values))).inserted_primary_key
        assert row_id is not None
        return (await connection.execute(select(samples).where(samples.c.id == row_id[0]))).one()


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2030, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
        datetime(2030, 1, 2, 8, 34, 5, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        datetime(1999, 12, 31, 19, 0, tzinfo=timezone(timedelta(hours=-5))),
    ],
)
async def test_aware_datetimes_come_back_as_the_same_instant_in_utc(
    engine: AsyncEngine, moment: datetime
) -> None:
    row = await _round_trip(engine, at=moment)
    assert row.at == moment
    assert row.at.utcoffset() == timedelta(0)
    assert row.at.tzinfo is UTC


async def test_naive_datetimes_are_refused(engine: AsyncEngine) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        await _round_trip(engine, at=datetime(2030, 1, 1, 12, 0))


async def test_null_datetimes_stay_null(engine: AsyncEngine) -> None:
    assert (await _round_trip(engine, at=None)).at is None


async def test_datetimes_compare_as_instants(engine: AsyncEngine) -> None:
    base = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
    await _round_trip(engine, at=base)
    later_elsewhere = datetime(2030, 6, 1, 14, 30, tzinfo=timezone(timedelta(hours=2)))
    async with engine.connect() as connection:
        found = (
            (await connection.execute(select(samples.c.at).where(samples.c.at < later_elsewhere)))
            .scalars()
            .all()
        )
    assert found == [base]


async def test_json_round_trips(engine: AsyncEngine) -> None:
    document = {"tools": ["calculator"], "nested": {"n": 1, "ok": True, "none": None}}
    assert (await _round_trip(engine, doc=document)).doc == document


async def test_enums_are_stored_by_value(engine: AsyncEngine) -> None:
    row = await _round_trip(engine, colour=Colour.DARK_BLUE)
    assert row.colour is Colour.DARK_BLUE
    async with engine.connect() as connection:
        raw = await connection.scalar(select(type_coerce(samples.c.colour, String)))
    assert raw == "dark-blue"


def test_utc_now_is_aware() -> None:
    now = utc_now()
    assert now.tzinfo is UTC
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=5)


async def test_model_timestamps_are_aware_utc(session: AsyncSession) -> None:
    """The same guarantee through the ORM, on whichever database the suite runs."""
    user = await user_crud.create(session, email="clock@example.com", hashed_password="x")
    await session.commit()
    session.expunge_all()
    loaded = await user_crud.get(session, user_id=user.id)
    assert loaded is not None
    assert loaded.created_at.tzinfo is UTC
    assert loaded.updated_at.tzinfo is UTC
    assert abs(loaded.created_at - datetime.now(UTC)) < timedelta(minutes=1)
