"""Accounts made outside the HTTP API: the first admin, `make createadmin` and `make seed`."""

from __future__ import annotations

from enum import StrEnum

import structlog
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from app.core.config import Settings
from app.core.security.passwords import hash_password, too_short_message
from app.crud import audit as audit_crud
from app.crud import organization as organization_crud
from app.crud import user as user_crud
from app.db.session import Database
from app.models import User, UserRole
from app.schemas.user import UserCreate

logger = structlog.get_logger(__name__)


class AccountError(ValueError):
    """Credentials that the sign-up rules would refuse; the message says which rule."""


class Outcome(StrEnum):
    """What `ensure_account` did, for the caller to report."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


def checked_credentials(settings: Settings, email: str, password: str) -> UserCreate:
    """The same email and password rules as `POST /auth/register`, so no weak admin slips in."""
    try:
        data = UserCreate(email=email, password=password)
    except ValidationError as exc:
        reasons = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors()
        )
        raise AccountError(reasons) from None
    if len(password) < settings.password_min_length:
        raise AccountError(f"password: {too_short_message(settings.password_min_length)}")
    return data


async def ensure_account(
    database: Database,
    settings: Settings,
    *,
    email: str,
    password: str,
    role: UserRole,
    update_existing: bool,
) -> Outcome:
    """Create the account, or update an existing one when asked.

    With `update_existing`, an existing account gets this role and password and is enabled;
    otherwise it is left untouched.
    """
    data = checked_credentials(settings, email, password)
    hashed = await hash_password(data.password)
    async with database.transaction() as session:
        user: User | None = await user_crud.get_by_email(session, email=data.email)
        if user is None:
            user = await user_crud.create(
                session, email=data.email, hashed_password=hashed, role=role
            )
            await audit_crud.record(
                session,
                action="admin.account_created",
                organization_id=await organization_crud.get_personal_id(session, user_id=user.id),
                target_type="user",
                target_id=user.id,
                details={"role": role, "by": "operator"},
            )
            return Outcome.CREATED
        if not update_existing:
            return Outcome.UNCHANGED
        # Through `update`, so the new password, role or flag ends earlier sessions.
        changes = {"role": role, "is_active": True, "hashed_password": hashed}
        await user_crud.update(session, user=user, changes=changes)
        await audit_crud.record(
            session,
            action="admin.account_updated",
            organization_id=await organization_crud.get_personal_id(session, user_id=user.id),
            target_type="user",
            target_id=user.id,
            details={
                "fields": ["is_active", "password", "role"],
                "role": role,
                "is_active": True,
                "by": "operator",
            },
        )
        return Outcome.UPDATED


async def apply_first_admin(database: Database, settings: Settings) -> Outcome | None:
    """FIRST_ADMIN_EMAIL/FIRST_ADMIN_PASSWORD at start-up: create that admin once.

    An existing account is never changed, so a password changed later sticks; workers
    starting together may race, and the loser's duplicate insert is not an error.
    """
    if not settings.first_admin_email or settings.first_admin_password is None:
        return None
    try:
        outcome = await ensure_account(
            database,
            settings,
            email=settings.first_admin_email,
            password=settings.first_admin_password.get_secret_value(),
            role=UserRole.ADMIN,
            update_existing=False,
        )
    except IntegrityError:
        outcome = Outcome.UNCHANGED
    if outcome is Outcome.CREATED:
        logger.info("first_admin_created", email=settings.first_admin_email)
    return outcome
