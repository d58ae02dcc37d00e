"""The current user's profile and the admin-only user routes."""

from __future__ import annotations

import uuid

import httpx
import pytest

from app.crud import user as user_crud
from app.db.session import Database
from tests.support.factories import AppFactory, UserFactory, client_for

ME = "/api/v1/users/me"
USERS = "/api/v1/users"


# --- /users/me --------------------------------------------------------------------------


async def test_read_me_returns_the_profile(client: httpx.AsyncClient, users: UserFactory) -> None:
    user = await users.signed_in()
    response = await client.get(ME, headers=user.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(user.id)
    assert body["email"] == user.email
    assert body["role"] == "user"
    assert "hashed_password" not in body
    assert "password" not in body


async def test_read_me_requires_authentication(client: httpx.AsyncClient) -> None:
    assert (await client.get(ME)).status_code == 401


async def test_update_me_changes_and_clears_the_name(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.signed_in()
    before = (await client.get(ME, headers=user.headers)).json()
    named = await client.patch(ME, headers=user.headers, json={"full_name": "Grace Hopper"})
    assert named.status_code == 200
    assert named.json()["full_name"] == "Grace Hopper"
    assert named.json()["updated_at"] >= before["updated_at"]
    assert (await client.get(ME, headers=user.headers)).json()["full_name"] == "Grace Hopper"

    cleared = await client.patch(ME, headers=user.headers, json={"full_name": None})
    assert cleared.status_code == 200
    assert cleared.json()["full_name"] is None


async def test_update_me_with_an_empty_body_changes_nothing(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.signed_in()
    await client.patch(ME, headers=user.headers, json={"full_name": "Kept"})
    response = await client.patch(ME, headers=user.headers, json={})
    assert response.status_code == 200
    assert response.json()["full_name"] == "Kept"


async def test_password_change_then_login_with_the_new_one(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.signed_in()
    response = await client.patch(ME, headers=user.headers, json={"password": "new-secret-99"})
    assert response.status_code == 200
    assert (await users.login(user.email, "new-secret-99")).status_code == 200
    assert (await users.login(user.email, user.password)).status_code == 401


@pytest.mark.parametrize("password", ["short1", "lettersonly", "a1" * 37, ""])
async def test_update_me_refuses_weak_passwords(
    client: httpx.AsyncClient, users: UserFactory, password: str
) -> None:
    user = await users.signed_in()
    response = await client.patch(ME, headers=user.headers, json={"password": password})
    assert response.status_code == 422
    assert (await users.login(user.email, user.password)).status_code == 200


async def test_update_me_applies_the_configured_minimum_length(make_app: AppFactory) -> None:
    strict = await make_app(password_min_length=12)
    async with client_for(strict) as http:
        users = UserFactory(http, strict.state.database)
        user_email = await users.register(password="long-enough-pass-1")
        tokens = (await users.login(user_email, "long-enough-pass-1")).json()
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        response = await http.patch(ME, headers=headers, json={"password": "abcdefg12"})
    assert response.status_code == 422


async def test_users_cannot_promote_or_enable_themselves(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.signed_in()
    response = await client.patch(ME, headers=user.headers, json={"role": "admin"})
    assert response.status_code == 200
    assert response.json()["role"] == "user"


# --- admin: GET /users ------------------------------------------------------------------


async def test_list_users_is_forbidden_to_non_admins(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.signed_in()
    response = await client.get(USERS, headers=user.headers)
    assert response.status_code == 403
    assert response.json() == {"detail": "Administrator privileges required"}


async def test_list_users_requires_authentication(client: httpx.AsyncClient) -> None:
    assert (await client.get(USERS)).status_code == 401


async def test_admin_lists_users_in_pages(client: httpx.AsyncClient, users: UserFactory) -> None:
    admin = await users.signed_in(admin=True)
    for _ in range(3):
        await users.register()
    response = await client.get(USERS, headers=admin.headers)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"items", "total", "skip", "limit"}
    assert body["total"] == 4
    assert (body["skip"], body["limit"]) == (0, 20)
    assert len(body["items"]) == 4
    assert all("hashed_password" not in item for item in body["items"])
    assert body["items"][0]["email"] == admin.email

    page = (await client.get(USERS, headers=admin.headers, params={"skip": 1, "limit": 2})).json()
    assert page["total"] == 4
    assert (page["skip"], page["limit"]) == (1, 2)
    assert [u["id"] for u in page["items"]] == [u["id"] for u in body["items"][1:3]]


async def test_admin_filters_users_by_email(client: httpx.AsyncClient, users: UserFactory) -> None:
    admin = await users.signed_in(admin=True)
    await users.register("findme@example.com")
    await users.register("other_one@example.com")
    await users.register("otherxone@example.com")
    found = (await client.get(USERS, headers=admin.headers, params={"q": "FINDME"})).json()
    assert [u["email"] for u in found["items"]] == ["findme@example.com"]
    assert found["total"] == 1
    # `_` and `%` are literal characters, not wildcards.
    underscore = (await client.get(USERS, headers=admin.headers, params={"q": "r_o"})).json()
    assert [u["email"] for u in underscore["items"]] == ["other_one@example.com"]
    percent = (await client.get(USERS, headers=admin.headers, params={"q": "%"})).json()
    assert percent["total"] == 0


@pytest.mark.parametrize(
    "params", [{"skip": -1}, {"limit": 0}, {"limit": 101}, {"q": "x" * 101}, {"limit": "many"}]
)
async def test_list_users_validates_paging(
    client: httpx.AsyncClient, users: UserFactory, params: dict[str, str | int]
) -> None:
    admin = await users.signed_in(admin=True)
    response = await client.get(USERS, headers=admin.headers, params=params)
    assert response.status_code == 422


# --- admin: PATCH /users/{id} -----------------------------------------------------------


async def test_update_user_is_forbidden_to_non_admins(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    user = await users.signed_in()
    other = await users.signed_in()
    response = await client.patch(
        f"{USERS}/{other.id}", headers=user.headers, json={"role": "admin"}
    )
    assert response.status_code == 403
    me = await client.get(ME, headers=other.headers)
    assert me.json()["role"] == "user"


async def test_admin_promotes_a_user(client: httpx.AsyncClient, users: UserFactory) -> None:
    admin = await users.signed_in(admin=True)
    user = await users.signed_in()
    response = await client.patch(
        f"{USERS}/{user.id}", headers=admin.headers, json={"role": "admin", "full_name": "New"}
    )
    assert response.status_code == 200
    assert response.json()["role"] == "admin"
    assert response.json()["full_name"] == "New"
    # The role is read at sign-in: the old token is ended, a new one carries the new rights.
    assert (await client.get(USERS, headers=user.headers)).status_code == 401
    tokens = (await users.login(user.email)).json()
    promoted = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await client.get(USERS, headers=promoted)).status_code == 200


async def test_admin_disables_a_user_who_then_loses_access(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    admin = await users.signed_in(admin=True)
    user = await users.signed_in()
    response = await client.patch(
        f"{USERS}/{user.id}", headers=admin.headers, json={"is_active": False}
    )
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert (await client.get(ME, headers=user.headers)).status_code == 401
    assert (await users.login(user.email)).status_code == 401

    enabled = await client.patch(
        f"{USERS}/{user.id}", headers=admin.headers, json={"is_active": True}
    )
    assert enabled.json()["is_active"] is True
    assert (await users.login(user.email)).status_code == 200


async def test_admin_null_role_leaves_it_unchanged(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    admin = await users.signed_in(admin=True)
    user = await users.signed_in()
    response = await client.patch(
        f"{USERS}/{user.id}", headers=admin.headers, json={"role": None, "is_active": None}
    )
    assert response.status_code == 200
    assert response.json()["role"] == "user"
    assert response.json()["is_active"] is True


async def test_admin_resets_a_password(
    client: httpx.AsyncClient, users: UserFactory, database: Database
) -> None:
    admin = await users.signed_in(admin=True)
    user = await users.signed_in()
    async with database.transaction() as session:
        before = await user_crud.get(session, user_id=user.id)
        assert before is not None
        old_hash = before.hashed_password
    response = await client.patch(
        f"{USERS}/{user.id}", headers=admin.headers, json={"password": "reset-by-admin-7"}
    )
    assert response.status_code == 200
    assert old_hash not in response.text
    assert (await users.login(user.email, "reset-by-admin-7")).status_code == 200


async def test_admin_update_of_an_unknown_user_is_404(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    admin = await users.signed_in(admin=True)
    response = await client.patch(
        f"{USERS}/{uuid.uuid4()}", headers=admin.headers, json={"full_name": "Ghost"}
    )
    assert response.status_code == 404
    assert response.json() == {"detail": "User not found"}


async def test_admin_update_with_a_malformed_id_is_422(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    admin = await users.signed_in(admin=True)
    response = await client.patch(f"{USERS}/not-a-uuid", headers=admin.headers, json={})
    assert response.status_code == 422


async def test_admin_update_refuses_an_unknown_role(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    admin = await users.signed_in(admin=True)
    user = await users.signed_in()
    response = await client.patch(
        f"{USERS}/{user.id}", headers=admin.headers, json={"role": "superuser"}
    )
    assert response.status_code == 422
