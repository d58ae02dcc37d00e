"""Helpers every crud module shares: counting and paging a select, applying updates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import Base

ModelT = TypeVar("ModelT", bound=Base)


async def paginate(
    session: AsyncSession, statement: Select[ModelT], *, skip: int, limit: int
) -> tuple[Sequence[ModelT], int]:
    """One page of rows and the total count of the unpaged query."""
    total = await session.scalar(
        select(func.count()).select_from(statement.order_by(None).subquery())
    )
    rows = (await session.scalars(statement.offset(skip).limit(limit))).all()
    return rows, int(total or 0)


async def apply_changes(session: AsyncSession, obj: ModelT, changes: Mapping[str, Any]) -> ModelT:
    """Set the given attributes and flush; the request's transaction commits.

    The refresh reloads every column, so defaults computed at flush are current on `obj`.
    """
    for field, value in changes.items():
        setattr(obj, field, value)
    await session.flush()
    await session.refresh(obj)
    return obj
