"""Fixtures for tests that load a served process: each brings its own database and server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.databases import temporary_database
{%- if cookiecutter.use_redis %}

REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
# A Redis database of their own for the crash tests' served processes.
SERVED_REDIS_INDEX = 15
{%- endif %}


@pytest.fixture(autouse=True)
def _clean_state() -> None:
    """Served processes use databases of their own, so the suite-wide cleanup is skipped."""


@pytest.fixture(params=["sqlite"{% if cookiecutter.database == "postgresql" %}, "postgresql"{% endif %}])
def service_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The database{% if cookiecutter.use_redis %} (and, on PostgreSQL, the Redis){% endif %} the served processes of a crash test share."""
    if request.param == "sqlite":
        yield {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'crash.db'}"}
        return
{%- if cookiecutter.use_redis %}
    if not os.environ.get("TEST_DATABASE_URL") or not REDIS_URL:
        pytest.skip("set TEST_DATABASE_URL and TEST_REDIS_URL to crash on PostgreSQL + Redis")
    admin_url: str = request.getfixturevalue("postgres_admin_url")
    with temporary_database(admin_url) as url:
        yield {
            "DATABASE_URL": url,
            "REDIS_URL": f"{REDIS_URL.rsplit('/', 1)[0]}/{SERVED_REDIS_INDEX}",
        }
{%- else %}
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("set TEST_DATABASE_URL to crash on PostgreSQL")
    admin_url: str = request.getfixturevalue("postgres_admin_url")
    with temporary_database(admin_url) as url:
        yield {"DATABASE_URL": url}
{%- endif %}
