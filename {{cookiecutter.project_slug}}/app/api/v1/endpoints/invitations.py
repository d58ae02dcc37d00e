"""Invitations: offer a role by email; the invitee accepts with the token, once."""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, status

from app.api.access import Access, require_in_path
from app.api.audit import AuditDep
from app.api.deps import CurrentUser, PaginationDep, SessionDep
from app.core.errors import NotFoundError
from app.crud import membership as membership_crud
from app.crud import organization as organization_crud
from app.db.types import utc_now
from app.schemas.common import Page
from app.schemas.organization import (
    InvitationAccept,
    InvitationCreate,
    InvitationCreated,
    InvitationRead,
    OrganizationRead,
)

router = APIRouter(tags=["organizations"])

# Tells an invitation token from other secrets at a glance.
INVITATION_PREFIX = "inv_"


@router.post(
    "/organizations/{organization_id}/invitations",
    response_model=InvitationCreated,
    status_code=status.HTTP_201_CREATED,
)
async def create_invitation(
    payload: InvitationCreate,
    access: Annotated[Access, require_in_path("members:manage")],
    session: SessionDep,
    audit: AuditDep,
) -> InvitationCreated:
    """Invite an email address; the token is in this answer only, so send it on now."""
    organization = await organization_crud.get(session, organization_id=access.organization_id)
    if organization is None:
        raise NotFoundError("Organization not found")
    token = f"{INVITATION_PREFIX}{secrets.token_urlsafe(32)}"
    invitation = await membership_crud.create_invitation(
        session,
        organization=organization,
        actor_role=access.role,
        invited_by_id=access.user_id,
        email=payload.email,
        role=payload.role,
        token=token,
        expires_at=utc_now() + timedelta(days=payload.expires_in_days),
    )
    await audit.record(
        session,
        "invitation.created",
        organization_id=access.organization_id,
        actor_id=access.user_id,
        target_type="invitation",
        target_id=invitation.id,
        details={"email": invitation.email, "role": invitation.role.value},
    )
    read = InvitationRead.model_validate(invitation)
    return InvitationCreated(**read.model_dump(), token=token)


@router.get("/organizations/{organization_id}/invitations", response_model=Page[InvitationRead])
async def list_invitations(
    access: Annotated[Access, require_in_path("members:manage")],
    session: SessionDep,
    page: PaginationDep,
) -> Page[InvitationRead]:
    """The invitations not yet accepted or revoked, newest first."""
    rows, total = await membership_crud.get_invitation_page(
        session, organization_id=access.organization_id, skip=page.skip, limit=page.limit
    )
    return Page[InvitationRead].of(rows, total, page)


@router.delete(
    "/organizations/{organization_id}/invitations/{invitation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
)
async def revoke_invitation(
    invitation_id: Annotated[uuid.UUID, Path(description="The invitation's id")],
    access: Annotated[Access, require_in_path("members:manage")],
    session: SessionDep,
    audit: AuditDep,
) -> None:
    """Withdraw an invitation; its token stops working."""
    invitation = await membership_crud.get_invitation(
        session, organization_id=access.organization_id, invitation_id=invitation_id
    )
    if invitation is None:
        raise NotFoundError("Invitation not found")
    await membership_crud.revoke_invitation(session, invitation=invitation)
    await audit.record(
        session,
        "invitation.revoked",
        organization_id=access.organization_id,
        actor_id=access.user_id,
        target_type="invitation",
        target_id=invitation_id,
    )


@router.post("/invitations/accept", response_model=OrganizationRead)
async def accept_invitation(
    payload: InvitationAccept, user: CurrentUser, session: SessionDep, audit: AuditDep
) -> OrganizationRead:
    """Join the organisation that invited your email address, with the role offered."""
    membership = await membership_crud.accept_invitation(
        session, token=payload.token, user_id=user.id, email=user.email
    )
    organization = await organization_crud.get(session, organization_id=membership.organization_id)
    if organization is None:
        raise NotFoundError("Organization not found")
    await audit.record(
        session,
        "member.joined",
        organization_id=organization.id,
        actor_id=user.id,
        target_type="user",
        target_id=user.id,
        details={"role": membership.role.value},
    )
    return OrganizationRead(
        id=organization.id,
        name=organization.name,
        is_personal=organization.is_personal,
        role=membership.role,
        created_at=organization.created_at,
    )
