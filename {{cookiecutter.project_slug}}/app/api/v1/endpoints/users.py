"""The current user's profile, and user administration."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query

from app.api.audit import AuditDep
from app.api.deps import (
    AdminUser,
    Caller,
    CurrentUser,
    PaginationDep,
    SessionDep,
    SettingsDep,
    SignedInUser,
    check_password_length,
)
from app.api.error_responses import ADMIN_ONLY
from app.core.config import Settings
from app.core.errors import AuthenticationError, ConflictError, NotFoundError
from app.core.security.passwords import hash_password
from app.crud import user as user_crud
from app.models import User, UserRole
from app.schemas.common import Page
from app.schemas.user import UserAdminUpdate, UserRead, UserUpdate

router = APIRouter(prefix="/users", tags=["users"])

LAST_ADMIN = (
    "This is the last active administrator; promote another user to admin before "
    "demoting or deactivating this one"
)
# Sending null for these means "leave unchanged"; only the name may be cleared.
_NOT_NULLABLE = frozenset({"role", "is_active"})


async def _changes(settings: Settings, payload: UserUpdate) -> dict[str, Any]:
    """Fields that were sent, with a new password checked and hashed."""
    changes = payload.model_dump(exclude_unset=True)
    password = changes.pop("password", None)
    if password is not None:
        check_password_length(settings, password)
        changes["hashed_password"] = await hash_password(password)
    return {k: v for k, v in changes.items() if v is not None or k not in _NOT_NULLABLE}


@router.get("/me", response_model=UserRead)
async def read_me(user: CurrentUser) -> Caller:
    """The authenticated user's profile."""
    return user


@router.patch("/me", response_model=UserRead)
async def update_me(
    payload: UserUpdate,
    caller: SignedInUser,
    session: SessionDep,
    settings: SettingsDep,
    audit: AuditDep,
) -> User:
    """Change one's own name or password (signed in with a password, not an API key)."""
    user = await user_crud.get(session, user_id=caller.id)
    if user is None:
        raise AuthenticationError()
    changes = await _changes(settings, payload)
    user = await user_crud.update(session, user=user, changes=changes)
    await audit.record_account(
        session,
        "user.updated",
        user_id=user.id,
        actor_id=caller.id,
        target_type="user",
        target_id=user.id,
        details=_audited(changes),
    )
    return user


@router.get("", response_model=Page[UserRead], responses=ADMIN_ONLY)
async def list_users(
    _admin: AdminUser,
    session: SessionDep,
    page: PaginationDep,
    q: Annotated[str | None, Query(max_length=100, description="Email contains")] = None,
) -> Page[UserRead]:
    """Every user, oldest first (administrators only)."""
    users, total = await user_crud.get_page(session, skip=page.skip, limit=page.limit, q=q)
    return Page[UserRead].of(users, total, page)


@router.patch("/{user_id}", response_model=UserRead, responses=ADMIN_ONLY)
async def update_user(
    user_id: uuid.UUID,
    payload: UserAdminUpdate,
    admin: AdminUser,
    session: SessionDep,
    settings: SettingsDep,
    audit: AuditDep,
) -> User:
    """Change anyone's profile, role or active flag (administrators only)."""
    user = await user_crud.get(session, user_id=user_id)
    if user is None:
        raise NotFoundError("User not found")
    changes = await _changes(settings, payload)
    removes_admin = _removes_admin(user, changes)
    if removes_admin:
        await user_crud.lock_admins(session)
    user = await user_crud.update(session, user=user, changes=changes)
    # Counted after the write, inside the transaction: of two administrators demoting
    # each other at once, the second sees the first's change and is rolled back.
    if removes_admin and not await user_crud.count_active_admins(session):
        raise ConflictError(LAST_ADMIN)
    await audit.record_account(
        session,
        "admin.user_updated",
        user_id=user.id,
        actor_id=admin.id,
        target_type="user",
        target_id=user.id,
        details=_audited(changes),
    )
    return user


def _audited(changes: dict[str, Any]) -> dict[str, Any]:
    """What an audit entry says of a change: the fields, and the new role and active flag."""
    shown: dict[str, Any] = {key: changes[key] for key in ("role", "is_active") if key in changes}
    fields = sorted("password" if key == "hashed_password" else key for key in changes)
    return {"fields": fields, **shown}


def _removes_admin(user: User, changes: dict[str, Any]) -> bool:
    """Whether the change takes an active administrator's rights away."""
    if not (user.is_admin and user.is_active):
        return False
    return changes.get("role", user.role) != UserRole.ADMIN or not changes.get("is_active", True)
