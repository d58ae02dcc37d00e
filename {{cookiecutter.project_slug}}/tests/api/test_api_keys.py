"""API keys: shown once, stored hashed, accepted like a token, revocable, bounded in use."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from app.api.deps import API_KEY_NOT_ENOUGH
from app.db.session import Database
from app.db.types import utc_now
from app.models import ApiKey
from tests.support.factories import SignedInUser, UserFactory

KEYS = "/api/v1/api-keys"


async def _create(client: httpx.AsyncClient, me: SignedInUser, **fields: Any) -> dict[str, Any]:
    response = await client.post(KEYS, json={"name": "laptop", **fields}, headers=me.headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_a_key_is_shown_once_and_stored_only_as_a_hash(
    client: httpx.AsyncClient, me: SignedInUser, database: Database
) -> None:
    created = await _create(client, me, expires_in_days=30)

    listed = (await client.get(KEYS, headers=me.headers)).json()

    assert created["key"].startswith("ak_")
    assert created["prefix"] == created["key"][:12]
    assert created["expires_at"] is not None
    assert listed["total"] == 1
    assert "key" not in listed["items"][0]
    assert listed["items"][0]["prefix"] == created["prefix"]
    async with database.transaction() as session:
        stored = (await session.scalars(select(ApiKey))).one()
    assert created["key"] not in {stored.secret_hash, stored.prefix}


async def test_a_key_authenticates_the_rest_api_and_the_openai_surface(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    key = (await _create(client, me))["key"]

    profile = await client.get("/api/v1/users/me", headers=_bearer(key))
    models = await client.get("/v1/models", headers=_bearer(key))
    listed = (await client.get(KEYS, headers=me.headers)).json()["items"][0]

    assert profile.status_code == 200
    assert profile.json()["email"] == me.email
    assert models.status_code == 200
    assert listed["last_used_at"] is not None


async def test_a_deleted_key_is_refused_at_once(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    created = await _create(client, me)

    deleted = await client.delete(f"{KEYS}/{created['id']}", headers=me.headers)
    refused = await client.get("/api/v1/users/me", headers=_bearer(created["key"]))

    assert deleted.status_code == 204
    assert refused.status_code == 401
    assert refused.json() == {"detail": "Invalid or expired API key"}


async def test_an_expired_or_made_up_key_is_refused(
    client: httpx.AsyncClient, me: SignedInUser, database: Database
) -> None:
    created = await _create(client, me, expires_in_days=1)
    async with database.transaction() as session:
        stored = (await session.scalars(select(ApiKey))).one()
        stored.expires_at = utc_now() - timedelta(seconds=1)

    expired = await client.get("/api/v1/users/me", headers=_bearer(created["key"]))
    made_up = await client.get("/api/v1/users/me", headers=_bearer("ak_" + "x" * 43))

    assert expired.status_code == 401
    assert made_up.status_code == 401


async def test_a_key_cannot_manage_keys_or_the_password(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    key = (await _create(client, me))["key"]

    mint = await client.post(KEYS, json={"name": "more"}, headers=_bearer(key))
    listing = await client.get(KEYS, headers=_bearer(key))
    password = await client.patch(
        "/api/v1/users/me", json={"password": "taken-over-123"}, headers=_bearer(key)
    )

    for refused in (mint, listing, password):
        assert refused.status_code == 403
        assert refused.json() == {"detail": API_KEY_NOT_ENOUGH}


async def test_keys_are_private_and_die_with_a_disabled_account(
    client: httpx.AsyncClient, me: SignedInUser, users: UserFactory
) -> None:
    created = await _create(client, me)
    other = await users.signed_in()

    theirs = await client.delete(f"{KEYS}/{created['id']}", headers=other.headers)
    their_list = (await client.get(KEYS, headers=other.headers)).json()
    await users.deactivate(me.email)
    disabled = await client.get("/api/v1/users/me", headers=_bearer(created["key"]))

    assert theirs.status_code == 404
    assert their_list["total"] == 0
    assert disabled.status_code == 401


async def test_names_and_expiry_are_validated(client: httpx.AsyncClient, me: SignedInUser) -> None:
    for body in ({"name": ""}, {"name": "x" * 101}, {"name": "ok", "expires_in_days": 0}):
        response = await client.post(KEYS, json=body, headers=me.headers)
        assert response.status_code == 422, body
