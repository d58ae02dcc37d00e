"""Organisation queries: every one a user sees is one they are a member of."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.crud.base import apply_changes
from app.models.organization import Membership, Organization, Role

PERSONAL_NAME = "Personal"


async def create(session: AsyncSession, *, name: str, owner_id: uuid.UUID) -> Organization:
    """A new organisation with its creator as owner."""
    organization = Organization(name=name)
    session.add(organization)
    await session.flush()
    session.add(Membership(organization_id=organization.id, user_id=owner_id, role=Role.OWNER))
    await session.flush()
    return organization


async def create_personal(session: AsyncSession, *, user_id: uuid.UUID) -> Organization:
    """The user's own workspace: an organisation of one, made with the account."""
    organization = Organization(name=PERSONAL_NAME, personal_for_id=user_id)
    session.add(organization)
    await session.flush()
    session.add(Membership(organization_id=organization.id, user_id=user_id, role=Role.OWNER))
    await session.flush()
    return organization


async def get_personal(session: AsyncSession, *, user_id: uuid.UUID) -> Organization | None:
    """The user's personal workspace."""
    return await session.scalar(select(Organization).where(Organization.personal_for_id == user_id))


async def get_personal_id(session: AsyncSession, *, user_id: uuid.UUID) -> uuid.UUID | None:
    """The id of the user's personal workspace, without loading the row."""
    return await session.scalar(
        select(Organization.id).where(Organization.personal_for_id == user_id)
    )


async def get(session: AsyncSession, *, organization_id: uuid.UUID) -> Organization | None:
    """An organisation by id; callers have already checked membership."""
    return await session.get(Organization, organization_id)


async def get_page_for_user(
    session: AsyncSession, *, user_id: uuid.UUID, skip: int, limit: int
) -> tuple[Sequence[tuple[Organization, Role]], int]:
    """The user's organisations with their role in each, personal first, then oldest first."""
    statement = (
        select(Organization, Membership.role)
        .join(Membership, Membership.organization_id == Organization.id)
        .where(Membership.user_id == user_id)
        .order_by(Organization.personal_for_id.is_(None), Organization.created_at, Organization.id)
    )
    total = await session.scalar(
        select(func.count()).select_from(statement.order_by(None).subquery())
    )
    rows = [(row[0], row[1]) for row in await session.execute(statement.offset(skip).limit(limit))]
    return rows, int(total or 0)


async def rename(session: AsyncSession, *, organization: Organization, name: str) -> Organization:
    """Give the organisation a new name."""
    return await apply_changes(session, organization, {"name": name})


async def delete(session: AsyncSession, *, organization: Organization) -> None:
    """Remove the organisation; its memberships, invitations and resources go with it."""
    await session.delete(organization)
    await session.flush()
