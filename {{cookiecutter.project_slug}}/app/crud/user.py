"""User queries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.crud import organization as organization_crud
from app.crud.base import apply_changes, paginate
from app.models import User, UserRole
from app.models.user import SESSION_FIELDS


def normalize_email(email: str) -> str:
    """Emails are stored and compared lowercased, so one address is one account."""
    return email.strip().lower()


async def get(session: AsyncSession, *, user_id: uuid.UUID) -> User | None:
    """A user by id, or None."""
    return await session.get(User, user_id)


async def get_by_email(session: AsyncSession, *, email: str) -> User | None:
    """A user by email, in any letter case; the unique index serves the lookup."""
    return await session.scalar(select(User).where(User.email == normalize_email(email)))


async def create(
    session: AsyncSession,
    *,
    email: str,
    hashed_password: str,
    full_name: str | None = None,
    role: UserRole = UserRole.USER,
) -> User:
    """Insert a user and their personal workspace; a duplicate email is a 409 at flush."""
    user = User(
        email=normalize_email(email),
        hashed_password=hashed_password,
        full_name=full_name,
        role=role,
    )
    session.add(user)
    await session.flush()
    await organization_crud.create_personal(session, user_id=user.id)
    return user


async def update(session: AsyncSession, *, user: User, changes: dict[str, Any]) -> User:
    """Apply already-validated changes (a new password arrives hashed).

    A new password, role or active flag bumps the token version, which ends every
    session issued before; the database computes it, so concurrent bumps all count.
    """
    effective = {name: value for name, value in changes.items() if getattr(user, name) != value}
    if SESSION_FIELDS & effective.keys():
        effective["token_version"] = User.token_version + 1
    return await apply_changes(session, user, effective)


async def lock_admins(session: AsyncSession) -> None:
    """Hold the active administrators' rows until the transaction ends (PostgreSQL).

    Taken in id order, so two concurrent changes to administrators queue up instead of
    deadlocking, and the second one sees what the first committed. SQLite ignores the
    lock; it serialises writers on its own.
    """
    active_admins = (
        select(User.id)
        .where(User.role == UserRole.ADMIN, User.is_active.is_(True))
        .order_by(User.id)
        .with_for_update()
    )
    await session.execute(active_admins)


async def count_active_admins(session: AsyncSession) -> int:
    """Administrators who can still sign in, as this transaction sees them."""
    count = await session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == UserRole.ADMIN, User.is_active.is_(True))
    )
    return int(count or 0)


async def get_page(
    session: AsyncSession, *, skip: int, limit: int, q: str | None = None
) -> tuple[Sequence[User], int]:
    """Users oldest first; `q` matches part of the email, `%` and `_` taken literally."""
    statement = select(User).order_by(User.created_at, User.id)
    if q:
        statement = statement.where(User.email.icontains(q, autoescape=True))
    return await paginate(session, statement, skip=skip, limit=limit)
