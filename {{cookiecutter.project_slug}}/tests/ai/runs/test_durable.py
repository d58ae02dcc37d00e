"""The run engine's own connections: as many as the settings allow, on PostgreSQL."""

from __future__ import annotations

import pytest
from dbos import _dbos
from fastapi import FastAPI

from app.core.config import Settings

pytestmark = pytest.mark.postgres


async def test_the_run_engine_pool_is_sized_from_settings(app: FastAPI, settings: Settings) -> None:
    """Every process adds this pool to its own: the sum must fit the server's limit."""
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("set TEST_DATABASE_URL to a PostgreSQL server")
    engine = _dbos._dbos_global_instance
    assert engine is not None
    assert engine._sys_db.engine.pool.size() == settings.runs_database_pool_size  # type: ignore[attr-defined]
