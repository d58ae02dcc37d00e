"""User queries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.crud.base import apply_changes, paginate
from app.models import User, UserRole


async def get(session: AsyncSession, *, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def get_by_email(session: AsyncSession, *, email: str) -> User | None:
    """Emails compare case-insensitively, as mail servers treat them."""
    return await session.scalar(select(User).where(func.lower(User.email) == email.lower()))


async def create(
    session: AsyncSession,
    *,
    email: str,
    hashed_password: str,
    full_name: str | None = None,
    role: UserRole = UserRole.USER,
) -> User:
    user = User(
        email=email.lower(), hashed_password=hashed_password, full_name=full_name, role=role
    )
    session.add(user)
    await session.flush()
    return user


async def update(session: AsyncSession, *, user: User, changes: dict[str, Any]) -> User:
    return await apply_changes(session, user, changes)


async def get_page(
    session: AsyncSession, *, skip: int, limit: int, q: str | None = None
) -> tuple[Sequence[User], int]:
    statement = select(User).order_by(User.created_at, User.id)
    if q:
        statement = statement.where(User.email.ilike(f"%{q}%"))
    return await paginate(session, statement, skip=skip, limit=limit)
