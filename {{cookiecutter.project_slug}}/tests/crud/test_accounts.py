"""Accounts made outside the API: the sign-up rules apply, and the first admin is made once."""

from __future__ import annotations

import uuid

import httpx
import pytest
from pydantic import SecretStr

from app.core.config import Settings
from app.crud import audit as audit_crud
from app.crud import organization as organization_crud
from app.crud import user as user_crud
from app.crud.accounts import (
    AccountError,
    Outcome,
    apply_first_admin,
    ensure_account,
)
from app.db.session import Database
from app.models import UserRole
from tests.support.factories import DEFAULT_PASSWORD, AppFactory, UserFactory


def _email() -> str:
    return f"admin-{uuid.uuid4().hex[:10]}@example.com"


async def _role(database: Database, email: str) -> UserRole | None:
    async with database.transaction() as session:
        user = await user_crud.get_by_email(session, email=email)
        return None if user is None else user.role


async def test_ensure_account_creates_an_admin_who_can_sign_in(
    database: Database, settings: Settings, users: UserFactory
) -> None:
    email = _email()
    outcome = await ensure_account(
        database,
        settings,
        email=email,
        password=DEFAULT_PASSWORD,
        role=UserRole.ADMIN,
        update_existing=False,
    )

    assert outcome is Outcome.CREATED
    assert await _role(database, email) is UserRole.ADMIN
    assert (await users.login(email)).status_code == 200


async def test_ensure_account_promotes_and_resets_only_when_asked(
    database: Database, settings: Settings, users: UserFactory
) -> None:
    email = await users.register()
    password = "new-password-77"

    left = await ensure_account(
        database,
        settings,
        email=email,
        password=password,
        role=UserRole.ADMIN,
        update_existing=False,
    )
    assert left is Outcome.UNCHANGED
    assert await _role(database, email) is UserRole.USER

    updated = await ensure_account(
        database,
        settings,
        email=email,
        password=password,
        role=UserRole.ADMIN,
        update_existing=True,
    )
    assert updated is Outcome.UPDATED
    assert await _role(database, email) is UserRole.ADMIN
    assert (await users.login(email, "new-password-77")).status_code == 200
    assert (await users.login(email)).status_code == 401


@pytest.mark.parametrize(
    ("email", "password", "reason"),
    [
        ("not-an-email", DEFAULT_PASSWORD, "email"),
        ("a@example.com", "short1", "at least"),
        ("a@example.com", "lettersonlypassword", "letter and one digit"),
    ],
)
async def test_weak_or_malformed_credentials_are_refused(
    database: Database, settings: Settings, email: str, password: str, reason: str
) -> None:
    with pytest.raises(AccountError, match=reason):
        await ensure_account(
            database,
            settings,
            email=email,
            password=password,
            role=UserRole.ADMIN,
            update_existing=True,
        )


async def test_first_admin_is_applied_once(database: Database, settings: Settings) -> None:
    email = _email()
    first = settings.model_copy(
        update={"first_admin_email": email, "first_admin_password": SecretStr(DEFAULT_PASSWORD)}
    )
    assert await apply_first_admin(database, first) is Outcome.CREATED
    again = first.model_copy(update={"first_admin_password": SecretStr("other-password-9")})
    assert await apply_first_admin(database, again) is Outcome.UNCHANGED
    assert await apply_first_admin(database, settings) is None


async def test_app_start_up_creates_the_first_admin(
    make_app: AppFactory, database: Database
) -> None:
    email = _email()
    app = await make_app(first_admin_email=email, first_admin_password=SecretStr(DEFAULT_PASSWORD))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        admin = UserFactory(c, database)
        tokens = (await admin.login(email)).json()
        me = await c.get(
            "/api/v1/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
    assert me.json()["role"] == "admin"


@pytest.mark.parametrize(
    ("email", "password"), [("a@example.com", None), ("", "secret-password-1")]
)
def test_half_of_the_first_admin_is_a_settings_error(email: str, password: str | None) -> None:
    with pytest.raises(ValueError, match="FIRST_ADMIN_EMAIL and FIRST_ADMIN_PASSWORD together"):
        Settings(
            _env_file=None,
            environment="test",
            first_admin_email=email,
            first_admin_password=password,
        )


async def test_accounts_made_or_changed_by_an_operator_are_audited(
    database: Database, settings: Settings
) -> None:
    email = _email()
    for update_existing in (False, True):
        await ensure_account(
            database,
            settings,
            email=email,
            password=DEFAULT_PASSWORD,
            role=UserRole.ADMIN,
            update_existing=update_existing,
        )

    async with database.transaction() as session:
        user = await user_crud.get_by_email(session, email=email)
        assert user is not None
        personal_id = await organization_crud.get_personal_id(session, user_id=user.id)
        entries, _ = await audit_crud.get_page(
            session,
            organization_id=personal_id,
            where=audit_crud.AuditFilter(target_type="user"),
            skip=0,
            limit=10,
        )
    assert personal_id is not None
    assert [(e.action, e.actor_id, e.target_id, e.details["role"]) for e in entries] == [
        ("admin.account_updated", None, str(user.id), "admin"),
        ("admin.account_created", None, str(user.id), "admin"),
    ]
