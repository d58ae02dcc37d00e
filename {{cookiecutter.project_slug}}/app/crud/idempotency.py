"""Idempotency keys: the run a user's key started, and the key stored with the run it starts.

A request holds its key on its session (`holding`) while the run is stored; creating the
execution adds the key in the same flush (`attach`), so the two commit together or not
at all, and a second request with the same key fails on the key's primary key.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Execution, IdempotencyKey

_HELD = "idempotency.held"


@dataclass(frozen=True, slots=True)
class HeldKey:
    """A key waiting for the execution its request is about to store."""

    key: str
    request_hash: str


async def find(
    session: AsyncSession, *, owner_id: uuid.UUID, key: str, since: datetime
) -> IdempotencyKey | None:
    """The owner's key if it was used at or after `since`; older keys no longer count."""
    return await session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.owner_id == owner_id,
            IdempotencyKey.key == key,
            IdempotencyKey.created_at >= since,
        )
    )


async def forget_older(session: AsyncSession, *, owner_id: uuid.UUID, before: datetime) -> None:
    """Delete the owner's keys used before `before`, so they can be used again."""
    await session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.owner_id == owner_id, IdempotencyKey.created_at < before
        )
    )


@contextmanager
def holding(session: AsyncSession, *, key: str, request_hash: str) -> Iterator[None]:
    """While open, the first execution created in `session` is stored with this key."""
    session.info[_HELD] = HeldKey(key=key, request_hash=request_hash)
    try:
        yield
    finally:
        session.info.pop(_HELD, None)


def attach(session: AsyncSession, execution: Execution) -> None:
    """Add the key the session holds, if any, for this new execution; the key is then spent."""
    held: HeldKey | None = session.info.pop(_HELD, None)
    if held is None:
        return
    session.add(
        IdempotencyKey(
            owner_id=execution.owner_id,
            key=held.key,
            request_hash=held.request_hash,
            execution_id=execution.id,
        )
    )
