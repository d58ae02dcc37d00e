"""A signed-in user is served from the cache, and every change to the account is seen at once."""

from __future__ import annotations
{%- if cookiecutter.use_redis %}

import os

import pytest
{%- else %}
{% endif %}
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import update

from app.core.config import Settings
from app.core.security.tokens import TokenType, decode_token
from app.core.store import MemoryStore
from app.crud import user as user_crud
from app.crud.accounts import ensure_account
from app.crud.user_cache import UserCache
from app.db.session import Database
from app.db.tracking import RowChange
from app.models import User, UserRole
from tests.db.test_tracking import Traffic, traffic
from tests.support.factories import DEFAULT_PASSWORD, AppFactory, UserFactory, client_for

ME = "/api/v1/users/me"
USERS = "/api/v1/users"


def _about_users(seen: Traffic) -> list[str]:
    """The statements that read or wrote users, whatever else ran meanwhile."""
    return [statement for statement in seen.statements if "FROM users" in statement]


async def test_a_cached_user_costs_the_database_nothing(
    client: AsyncClient, users: UserFactory, database: Database
) -> None:
    me = await users.signed_in()  # reads /users/me once, which fills the cache
    with traffic(database) as seen:
        response = await client.get(ME, headers=me.headers)
    assert response.status_code == 200
    assert response.json()["email"] == me.email
    # Only statements about users: background work of earlier tests may still be ending.
    assert _about_users(seen) == []


async def test_a_profile_change_shows_at_once(client: AsyncClient, users: UserFactory) -> None:
    me = await users.signed_in()
    changed = await client.patch(ME, headers=me.headers, json={"full_name": "Ada"})
    assert changed.status_code == 200
    assert (await client.get(ME, headers=me.headers)).json()["full_name"] == "Ada"


async def test_an_account_disabled_in_the_database_is_refused_at_once(
    client: AsyncClient, users: UserFactory
) -> None:
    me = await users.signed_in()
    await users.deactivate(me.email)
    assert (await client.get(ME, headers=me.headers)).status_code == 401


async def test_a_change_to_every_user_is_seen_at_once(
    client: AsyncClient, users: UserFactory, database: Database
) -> None:
    me = await users.signed_in()
    async with database.transaction() as session:
        await session.execute(update(User).values(is_active=False))
    assert (await client.get(ME, headers=me.headers)).status_code == 401


async def test_a_demoted_admin_loses_admin_routes_at_once(
    client: AsyncClient, users: UserFactory
) -> None:
    admin = await users.signed_in(admin=True)
    other = await users.signed_in(admin=True)
    assert (await client.get(USERS, headers=other.headers)).status_code == 200
    demoted = await client.patch(
        f"{USERS}/{other.id}", headers=admin.headers, json={"role": "user"}
    )
    assert demoted.status_code == 200
    assert (await client.get(USERS, headers=other.headers)).status_code == 401


async def test_a_password_reset_from_the_command_line_ends_sessions(
    client: AsyncClient, users: UserFactory, database: Database, settings: Settings
) -> None:
    me = await users.signed_in()
    await ensure_account(
        database,
        settings,
        email=me.email,
        password=DEFAULT_PASSWORD + "-new",
        role=UserRole.USER,
        update_existing=True,
    )
    assert (await client.get(ME, headers=me.headers)).status_code == 401


async def test_without_a_cache_every_request_reads_the_user(
    make_app: AppFactory, users: UserFactory
) -> None:
    me = await users.signed_in()
    uncached: FastAPI = await make_app(user_cache_seconds=0)
    database: Database = uncached.state.database
    async with client_for(uncached) as client:
        await client.get(ME, headers=me.headers)
        with traffic(database) as seen:
            assert (await client.get(ME, headers=me.headers)).status_code == 200
    assert len(_about_users(seen)) == 1


async def test_a_reader_that_read_before_a_change_cannot_restore_the_old_account(
    users: UserFactory, database: Database, settings: Settings
) -> None:
    me = await users.signed_in()
    claims = decode_token(settings, me.access_token, TokenType.ACCESS)
    cache = UserCache(MemoryStore(), ttl_seconds=30)
    fetched = await cache.store.get_many(cache.keys(me.id))  # the reader misses
    async with database.transaction() as session:
        before = await user_crud.get(session, user_id=me.id)  # and reads the row
    assert before is not None
    await cache.forget(frozenset({RowChange("users", me.id)}))  # a change lands meanwhile
    await cache.remember(before, fetched)  # the reader then fills: too late
    assert cache.lookup(await cache.store.get_many(cache.keys(me.id)), claims) is None


async def test_a_zero_lifetime_keeps_nothing(users: UserFactory, database: Database) -> None:
    me = await users.signed_in()
    store = MemoryStore()
    cache = UserCache(store, ttl_seconds=0)
    assert cache.keys(me.id) == []
    async with database.transaction() as session:
        user = await user_crud.get(session, user_id=me.id)
    assert user is not None
    assert (await cache.remember(user, [])).email == me.email
    await cache.forget(frozenset({RowChange("users", me.id)}))
    assert len(store) == 0
{%- if cookiecutter.use_redis %}


@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="set TEST_REDIS_URL to run")
async def test_with_redis_another_worker_refuses_a_disabled_user_at_once(
    app: FastAPI, make_app: AppFactory, users: UserFactory
) -> None:
    me = await users.signed_in()
    admin = await users.signed_in(admin=True)
    other: FastAPI = await make_app()  # another worker: its own memory, the same Redis
    async with client_for(other) as elsewhere, client_for(app) as here:
        assert (await elsewhere.get(ME, headers=me.headers)).status_code == 200
        disabled = await here.patch(
            f"{USERS}/{me.id}", headers=admin.headers, json={"is_active": False}
        )
        assert disabled.status_code == 200
        assert (await elsewhere.get(ME, headers=me.headers)).status_code == 401
{%- endif %}
