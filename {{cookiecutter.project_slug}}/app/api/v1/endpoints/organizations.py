"""Organisations: create one (you own it), list yours, rename and delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, status

from app.api.access import Access, require_in_path
from app.api.audit import AuditDep
from app.api.deps import CurrentUser, PaginationDep, SessionDep
from app.core.errors import ConflictError, NotFoundError
from app.crud import organization as organization_crud
from app.models.organization import Organization, Role
from app.schemas.common import Page
from app.schemas.organization import OrganizationCreate, OrganizationRead, OrganizationUpdate

router = APIRouter(prefix="/organizations", tags=["organizations"])


def _read(organization: Organization, role: Role) -> OrganizationRead:
    return OrganizationRead(
        id=organization.id,
        name=organization.name,
        is_personal=organization.is_personal,
        role=role,
        created_at=organization.created_at,
    )


async def _load(session: SessionDep, access: Access) -> Organization:
    organization = await organization_crud.get(session, organization_id=access.organization_id)
    if organization is None:
        raise NotFoundError("Organization not found")
    return organization


@router.post("", response_model=OrganizationRead, status_code=status.HTTP_201_CREATED)
async def create_organization(
    payload: OrganizationCreate, user: CurrentUser, session: SessionDep, audit: AuditDep
) -> OrganizationRead:
    """A new organisation, with you as its owner."""
    organization = await organization_crud.create(session, name=payload.name, owner_id=user.id)
    await audit.record(
        session,
        "organization.created",
        organization_id=organization.id,
        actor_id=user.id,
        target_type="organization",
        target_id=organization.id,
        details={"name": organization.name},
    )
    return _read(organization, Role.OWNER)


@router.get("", response_model=Page[OrganizationRead])
async def list_organizations(
    user: CurrentUser, session: SessionDep, page: PaginationDep
) -> Page[OrganizationRead]:
    """The organisations you belong to, your personal workspace first."""
    rows, total = await organization_crud.get_page_for_user(
        session, user_id=user.id, skip=page.skip, limit=page.limit
    )
    return Page[OrganizationRead].of([_read(org, role) for org, role in rows], total, page)


@router.get("/{organization_id}", response_model=OrganizationRead)
async def get_organization(
    access: Annotated[Access, require_in_path("organization:read")], session: SessionDep
) -> OrganizationRead:
    """One of your organisations, with your role in it."""
    return _read(await _load(session, access), access.role)


@router.patch("/{organization_id}", response_model=OrganizationRead)
async def update_organization(
    payload: OrganizationUpdate,
    access: Annotated[Access, require_in_path("organization:manage")],
    session: SessionDep,
    audit: AuditDep,
) -> OrganizationRead:
    """Rename the organisation."""
    organization = await organization_crud.rename(
        session, organization=await _load(session, access), name=payload.name
    )
    await audit.record(
        session,
        "organization.renamed",
        organization_id=organization.id,
        actor_id=access.user_id,
        target_type="organization",
        target_id=organization.id,
        details={"name": organization.name},
    )
    return _read(organization, access.role)


@router.delete("/{organization_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_organization(
    access: Annotated[Access, require_in_path("organization:delete")],
    session: SessionDep,
    audit: AuditDep,
) -> None:
    """Delete the organisation and everything it owns; a personal workspace stays."""
    organization = await _load(session, access)
    if organization.is_personal:
        raise ConflictError("A personal workspace cannot be deleted")
    await organization_crud.delete(session, organization=organization)
    await audit.record(
        session,
        "organization.deleted",
        organization_id=organization.id,
        actor_id=access.user_id,
        target_type="organization",
        target_id=organization.id,
        details={"name": organization.name},
    )
