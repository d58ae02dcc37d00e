"""Membership and invitation changes: every change to who may do what goes through here.

The rules that keep an organisation governable live here too: an admin cannot touch an
owner or make one, and the last owner can neither leave nor be demoted or removed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import ConflictError, NotFoundError, PermissionDeniedError
from app.core.permissions import allows
from app.core.security.api_keys import hash_api_key
from app.crud.base import apply_changes
from app.crud.user import normalize_email
from app.db.types import utc_now
from app.models import User
from app.models.organization import Invitation, Membership, Organization, Role

LAST_OWNER = "An organisation needs an owner: make someone else owner first"
PERSONAL = "A personal workspace has only its owner; create an organisation to share"


async def get(
    session: AsyncSession, *, organization_id: uuid.UUID, user_id: uuid.UUID
) -> Membership | None:
    """The user's membership of the organisation, or None if they are not a member."""
    return await session.scalar(
        select(Membership).where(
            Membership.organization_id == organization_id, Membership.user_id == user_id
        )
    )


async def get_personal(session: AsyncSession, *, user_id: uuid.UUID) -> Membership | None:
    """The user's membership of their own personal workspace, in one statement."""
    return await session.scalar(
        select(Membership)
        .join(Organization, Organization.id == Membership.organization_id)
        .where(Organization.personal_for_id == user_id, Membership.user_id == user_id)
    )


async def get_page(
    session: AsyncSession, *, organization_id: uuid.UUID, skip: int, limit: int
) -> tuple[Sequence[tuple[Membership, str]], int]:
    """The organisation's members with their emails, oldest membership first."""
    statement = (
        select(Membership, User.email)
        .join(User, User.id == Membership.user_id)
        .where(Membership.organization_id == organization_id)
        .order_by(Membership.created_at, Membership.id)
    )
    total = await session.scalar(
        select(func.count()).select_from(statement.order_by(None).subquery())
    )
    rows = [(row[0], row[1]) for row in await session.execute(statement.offset(skip).limit(limit))]
    return rows, int(total or 0)


async def _lock_owners(session: AsyncSession, organization_id: uuid.UUID) -> int:
    """Hold the owners' rows (PostgreSQL) and count them, so two demotions cannot race."""
    owners = (
        select(Membership.id)
        .where(Membership.organization_id == organization_id, Membership.role == Role.OWNER)
        .order_by(Membership.id)
        .with_for_update()
    )
    return len((await session.execute(owners)).all())


def _check_actor(actor_role: Role, target: Role) -> None:
    """Only owners touch owners, and only owners make new ones."""
    if target is Role.OWNER and not allows(actor_role, "owners:manage"):
        raise PermissionDeniedError("Only an owner can change an owner's membership")


async def change_role(
    session: AsyncSession, *, actor_role: Role, membership: Membership, role: Role
) -> Membership:
    """Give a member another role, within what the actor's own role allows."""
    _check_actor(actor_role, membership.role)
    _check_actor(actor_role, role)
    demoting_an_owner = membership.role is Role.OWNER and role is not Role.OWNER
    if demoting_an_owner and await _lock_owners(session, membership.organization_id) <= 1:
        raise ConflictError(LAST_OWNER)
    return await apply_changes(session, membership, {"role": role})


async def remove(session: AsyncSession, *, actor_role: Role, membership: Membership) -> None:
    """Take a member out of the organisation (or let them leave: then actor is themself)."""
    _check_actor(actor_role, membership.role)
    organization = await session.get(Organization, membership.organization_id)
    if organization is not None and organization.is_personal:
        raise ConflictError(PERSONAL)
    is_owner = membership.role is Role.OWNER
    if is_owner and await _lock_owners(session, membership.organization_id) <= 1:
        raise ConflictError(LAST_OWNER)
    await session.delete(membership)
    await session.flush()


async def create_invitation(
    session: AsyncSession,
    *,
    organization: Organization,
    actor_role: Role,
    invited_by_id: uuid.UUID,
    email: str,
    role: Role,
    token: str,
    expires_at: datetime,
) -> Invitation:
    """Offer a role to an email address; only the token's digest is kept."""
    if organization.is_personal:
        raise ConflictError(PERSONAL)
    _check_actor(actor_role, role)
    invitation = Invitation(
        organization_id=organization.id,
        email=normalize_email(email),
        role=role,
        token_hash=hash_api_key(token),
        invited_by_id=invited_by_id,
        expires_at=expires_at,
    )
    session.add(invitation)
    await session.flush()
    return invitation


async def get_invitation(
    session: AsyncSession, *, organization_id: uuid.UUID, invitation_id: uuid.UUID
) -> Invitation | None:
    """One of the organisation's pending invitations."""
    return await session.scalar(
        select(Invitation).where(
            Invitation.id == invitation_id, Invitation.organization_id == organization_id
        )
    )


async def get_invitation_page(
    session: AsyncSession, *, organization_id: uuid.UUID, skip: int, limit: int
) -> tuple[Sequence[Invitation], int]:
    """The organisation's pending invitations, newest first."""
    statement = (
        select(Invitation)
        .where(Invitation.organization_id == organization_id)
        .order_by(Invitation.created_at.desc(), Invitation.id)
    )
    total = await session.scalar(
        select(func.count()).select_from(statement.order_by(None).subquery())
    )
    rows = (await session.scalars(statement.offset(skip).limit(limit))).all()
    return rows, int(total or 0)


async def revoke_invitation(session: AsyncSession, *, invitation: Invitation) -> None:
    """Withdraw an invitation; its token stops working at once."""
    await session.delete(invitation)
    await session.flush()


async def accept_invitation(
    session: AsyncSession, *, token: str, user_id: uuid.UUID, email: str
) -> Membership:
    """Join the inviting organisation with the invited role; the token is spent.

    An unknown, spent or expired token, or one addressed to another email, is a 404:
    a guessed or forwarded token reveals nothing.
    """
    invitation = await session.scalar(
        select(Invitation).where(Invitation.token_hash == hash_api_key(token)).with_for_update()
    )
    if (
        invitation is None
        or invitation.expires_at <= utc_now()
        or invitation.email != normalize_email(email)
    ):
        raise NotFoundError("Invitation not found or expired")
    existing = await get(session, organization_id=invitation.organization_id, user_id=user_id)
    await session.delete(invitation)
    if existing is not None:
        await session.flush()
        return existing
    membership = Membership(
        organization_id=invitation.organization_id, user_id=user_id, role=invitation.role
    )
    session.add(membership)
    await session.flush()
    return membership
