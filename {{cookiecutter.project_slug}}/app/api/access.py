"""Who acts in which organisation, and whether their role allows what a route does.

The active organisation is the `X-Organization-Id` header, or else the caller's personal
workspace. An organisation the caller is not a member of is a 404, exactly like one that
does not exist; a role that lacks the route's permission is a 403.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Request, Security
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.deps import CurrentUser, SessionDep
from app.core.errors import NotFoundError, PermissionDeniedError
from app.core.permissions import ALL_PERMISSIONS, PERMISSIONS
from app.crud import membership as membership_crud
from app.crud.user_cache import Caller
from app.models.organization import Role

ORGANIZATION_HEADER = "X-Organization-Id"
ORGANIZATION_NOT_FOUND = "Organization not found"


@dataclass(frozen=True, slots=True)
class Access:
    """The caller, the organisation they act in, and what their role there allows."""

    user: Caller
    organization_id: uuid.UUID
    role: Role

    @property
    def user_id(self) -> uuid.UUID:
        """Who acts: recorded as the creator of what they make."""
        return self.user.id

    @property
    def permissions(self) -> frozenset[str]:
        """Everything the caller's role allows in this organisation."""
        return PERMISSIONS[self.role]


async def get_access(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    organization_id: Annotated[
        uuid.UUID | None,
        Header(
            alias=ORGANIZATION_HEADER,
            description="The organisation to act in; your personal workspace if absent",
        ),
    ] = None,
) -> Access:
    """The caller's membership of the active organisation, checked once on every request.

    FastAPI caches a dependency per set of OAuth2 scopes, so a route's `require(...)` and
    the path dependency that loads its entity would each ask; the answer is kept on the
    request, and the membership read once.
    """
    known: Access | None = getattr(request.state, "access", None)
    if known is not None:
        return known
    access = await resolve_access(session, user, organization_id)
    request.state.access = access
    return access


async def resolve_access(
    session: AsyncSession, user: Caller, organization_id: uuid.UUID | None
) -> Access:
    """Access in the named organisation, or the caller's personal workspace when None."""
    if organization_id is not None:
        return await _membership_access(session, user, organization_id)
    personal = await membership_crud.get_personal(session, user_id=user.id)
    if personal is None:
        raise NotFoundError(ORGANIZATION_NOT_FOUND)
    return Access(user=user, organization_id=personal.organization_id, role=personal.role)


async def get_path_access(
    user: CurrentUser,
    session: SessionDep,
    organization_id: Annotated[uuid.UUID, Path(description="The organization's id")],
) -> Access:
    """The caller's membership of the organisation the path names."""
    return await _membership_access(session, user, organization_id)


async def _membership_access(
    session: AsyncSession, user: Caller, organization_id: uuid.UUID
) -> Access:
    """Access in an organisation the caller belongs to; a 404 for any other."""
    membership = await membership_crud.get(
        session, organization_id=organization_id, user_id=user.id
    )
    if membership is None:
        raise NotFoundError(ORGANIZATION_NOT_FOUND)
    return Access(user=user, organization_id=organization_id, role=membership.role)


def _checked(access: Access, permission: str) -> Access:
    if permission not in access.permissions:
        raise PermissionDeniedError(
            f"Your role in this organization ({access.role}) does not allow {permission}"
        )
    return access


def require(permission: str) -> Any:
    """The dependency a route declares: the caller's `Access` if their role allows `permission`.

    The organisation is the active one (header, else personal workspace). The permission
    is the route's OAuth2 scope in the OpenAPI document, so clients and tests can read it.
    """
    if permission not in ALL_PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")

    async def check(access: Annotated[Access, Depends(get_access)]) -> Access:
        return _checked(access, permission)

    return Security(check, scopes=[permission])


def require_in_path(permission: str) -> Any:
    """As `require`, in the organisation named by the path's `organization_id`."""
    if permission not in ALL_PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")

    async def check(access: Annotated[Access, Depends(get_path_access)]) -> Access:
        return _checked(access, permission)

    return Security(check, scopes=[permission])


__all__ = [
    "Access",
    "get_access",
    "get_path_access",
    "require",
    "require_in_path",
    "resolve_access",
]
