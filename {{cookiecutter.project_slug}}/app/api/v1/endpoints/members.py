"""An organisation's members: list them, change a role, remove one, or leave."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, status

from app.api.access import Access, require_in_path
from app.api.audit import AuditDep
from app.api.deps import PaginationDep, SessionDep
from app.core.errors import NotFoundError
from app.crud import membership as membership_crud
from app.crud import user as user_crud
from app.models.organization import Membership
from app.schemas.common import Page
from app.schemas.organization import MemberRead, MemberUpdate

router = APIRouter(prefix="/organizations/{organization_id}", tags=["organizations"])

UserIdPath = Annotated[uuid.UUID, Path(description="The member's user id")]


def _read(membership: Membership, email: str) -> MemberRead:
    return MemberRead(
        user_id=membership.user_id,
        email=email,
        role=membership.role,
        created_at=membership.created_at,
    )


async def _member(session: SessionDep, access: Access, user_id: uuid.UUID) -> Membership:
    membership = await membership_crud.get(
        session, organization_id=access.organization_id, user_id=user_id
    )
    if membership is None:
        raise NotFoundError("Member not found")
    return membership


@router.get("/members", response_model=Page[MemberRead])
async def list_members(
    access: Annotated[Access, require_in_path("members:read")],
    session: SessionDep,
    page: PaginationDep,
) -> Page[MemberRead]:
    """Everyone in the organisation and their role."""
    rows, total = await membership_crud.get_page(
        session, organization_id=access.organization_id, skip=page.skip, limit=page.limit
    )
    return Page[MemberRead].of([_read(member, email) for member, email in rows], total, page)


@router.patch("/members/{user_id}", response_model=MemberRead)
async def update_member(
    user_id: UserIdPath,
    payload: MemberUpdate,
    access: Annotated[Access, require_in_path("members:manage")],
    session: SessionDep,
    audit: AuditDep,
) -> MemberRead:
    """Change a member's role; only owners change owners, and one owner always remains."""
    membership = await _member(session, access, user_id)
    previous = membership.role
    membership = await membership_crud.change_role(
        session, actor_role=access.role, membership=membership, role=payload.role
    )
    await audit.record(
        session,
        "member.role_changed",
        organization_id=access.organization_id,
        actor_id=access.user_id,
        target_type="user",
        target_id=user_id,
        details={"from": previous.value, "to": membership.role.value},
    )
    user = await user_crud.get(session, user_id=user_id)
    return _read(membership, user.email if user else "")


@router.delete("/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_member(
    user_id: UserIdPath,
    access: Annotated[Access, require_in_path("members:manage")],
    session: SessionDep,
    audit: AuditDep,
) -> None:
    """Take someone out of the organisation; admins cannot remove owners."""
    membership = await _member(session, access, user_id)
    await membership_crud.remove(session, actor_role=access.role, membership=membership)
    await audit.record(
        session,
        "member.removed",
        organization_id=access.organization_id,
        actor_id=access.user_id,
        target_type="user",
        target_id=user_id,
        details={"role": membership.role.value},
    )


@router.post("/leave", status_code=status.HTTP_204_NO_CONTENT)
async def leave_organization(
    access: Annotated[Access, require_in_path("organization:read")],
    session: SessionDep,
    audit: AuditDep,
) -> None:
    """Leave the organisation; the last owner must hand it on (or delete it) first."""
    membership = await _member(session, access, access.user_id)
    await membership_crud.remove(session, actor_role=access.role, membership=membership)
    await audit.record(
        session,
        "member.left",
        organization_id=access.organization_id,
        actor_id=access.user_id,
        target_type="user",
        target_id=access.user_id,
        details={"role": membership.role.value},
    )
