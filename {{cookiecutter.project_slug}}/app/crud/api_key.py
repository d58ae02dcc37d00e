"""API key queries, always scoped to the owner except the lookup that authenticates."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.security.api_keys import hash_api_key, new_api_key, shown_part
from app.crud.base import paginate
from app.db.types import utc_now
from app.models.api_key import ApiKey

# last_used_at is written at most this often per key, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


async def create(
    session: AsyncSession, *, owner_id: uuid.UUID, name: str, expires_at: datetime | None
) -> tuple[ApiKey, str]:
    """A new key for `owner_id`: the stored row and the key itself, to show once."""
    key = new_api_key()
    row = ApiKey(
        owner_id=owner_id,
        name=name,
        prefix=shown_part(key),
        secret_hash=hash_api_key(key),
        expires_at=expires_at,
    )
    session.add(row)
    await session.flush()
    return row, key


async def count(session: AsyncSession, *, owner_id: uuid.UUID) -> int:
    """How many keys the owner has, expired ones included."""
    statement = select(func.count()).select_from(ApiKey).where(ApiKey.owner_id == owner_id)
    total = await session.scalar(statement)
    return int(total or 0)


async def get(session: AsyncSession, *, owner_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey | None:
    """The owner's key, or None for a missing id and for another user's alike."""
    return await session.scalar(
        select(ApiKey).where(ApiKey.id == key_id, ApiKey.owner_id == owner_id)
    )


async def get_page(
    session: AsyncSession, *, owner_id: uuid.UUID, skip: int, limit: int
) -> tuple[Sequence[ApiKey], int]:
    """Newest first."""
    statement = (
        select(ApiKey)
        .where(ApiKey.owner_id == owner_id)
        .order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
    )
    return await paginate(session, statement, skip=skip, limit=limit)


async def find_usable(session: AsyncSession, *, key: str) -> ApiKey | None:
    """The unexpired key with this value, marked as used; None for anything else."""
    row = await session.scalar(select(ApiKey).where(ApiKey.secret_hash == hash_api_key(key)))
    now = utc_now()
    if row is None or (row.expires_at is not None and row.expires_at <= now):
        return None
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        row.last_used_at = now
    return row


async def delete(session: AsyncSession, *, key: ApiKey) -> None:
    """Revoke a key by removing it: the next request with it is refused."""
    await session.delete(key)
    await session.flush()
