"""The durable ledger of token revocations, which refills the key-value store when it forgets."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.session import Database
from app.db.types import utc_now
from app.models import TokenRevocation


async def prune_expired(session: AsyncSession, *, now: datetime) -> int:
    """Delete the rows whose tokens have expired anyway; how many went."""
    result = await session.execute(delete(TokenRevocation).where(TokenRevocation.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)


async def add(session: AsyncSession, *, key: str, expires_at: datetime) -> None:
    """Insert one revocation and flush; a key already kept raises `IntegrityError`."""
    session.add(TokenRevocation(key=key, expires_at=expires_at))
    await session.flush()


async def contains_any(session: AsyncSession, *, keys: Sequence[str], now: datetime) -> bool:
    """Whether one of `keys` is kept and unexpired."""
    query = select(exists().where(TokenRevocation.key.in_(keys), TokenRevocation.expires_at > now))
    return bool(await session.scalar(query))


async def unexpired(session: AsyncSession, *, now: datetime) -> Sequence[tuple[str, datetime]]:
    """Every unexpired revocation's key and expiry."""
    rows = await session.execute(
        select(TokenRevocation.key, TokenRevocation.expires_at).where(
            TokenRevocation.expires_at > now
        )
    )
    return [(row.key, row.expires_at) for row in rows]


class DatabaseRevocationLedger:
    """`RevocationLedger` on the database; each call is its own committed transaction.

    A revocation must outlast the request that made it (a logout whose response is lost
    still happened), so unlike the other crud helpers these commit themselves.
    """

    def __init__(self, database: Database) -> None:
        self.database = database

    async def record(self, key: str, expires_at: datetime) -> bool:
        """Keep `key` until `expires_at`, pruning expired rows; False when already kept."""
        try:
            async with self.database.transaction() as session:
                await prune_expired(session, now=utc_now())
                await add(session, key=key, expires_at=expires_at)
        except IntegrityError:
            return False
        return True

    async def contains_any(self, keys: Sequence[str]) -> bool:
        """Whether any of `keys` is kept and unexpired."""
        async with self.database.transaction() as session:
            return await contains_any(session, keys=keys, now=utc_now())

    async def unexpired(self) -> Sequence[tuple[str, datetime]]:
        """Every unexpired revocation, for refilling the store."""
        async with self.database.transaction() as session:
            return await unexpired(session, now=utc_now())
