"""Create and drop a throwaway PostgreSQL database for one test session."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine


@contextmanager
def temporary_database(admin_url: str) -> Iterator[str]:
    """Yield the URL of a new, empty database; drop it afterwards, whatever happened."""
    name = f"test_{uuid.uuid4().hex[:16]}"
    asyncio.run(_execute(admin_url, f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _execute(admin_url: str, statement: str) -> None:
    """CREATE/DROP DATABASE cannot run inside a transaction, hence AUTOCOMMIT."""
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()
