"""SQLite: exact cosine ranking, the optional sqlite-vec path, and the FTS5 index in step."""

from __future__ import annotations

import importlib.util
import sqlite3
from collections.abc import AsyncIterator

import numpy as np
import pytest
from sqlalchemy import select, update

from app.ai.knowledge.embedders.hashing import HashingEmbedder
from app.ai.knowledge.stores import sqlite as sqlite_backend
from app.ai.knowledge.stores.sqlite import SQLiteSearch
from app.db.session import Database
from app.models import KnowledgeChunk
from tests.ai.knowledge.conftest import Knowledge, knowledge_on
from tests.ai.knowledge.stores.conftest import random_vectors, scope_of, store_vectors


@pytest.fixture
async def knowledge(knowledge_databases: dict[str, Database]) -> AsyncIterator[Knowledge]:
    async with knowledge_on(knowledge_databases, "sqlite") as kit:
        yield kit


async def test_vector_search_is_exact_cosine_ranking(knowledge: Knowledge) -> None:
    knowledge.embedder = HashingEmbedder(dimension=16)
    owner = await knowledge.owner()
    base = await knowledge.base(owner)
    vectors = random_vectors(200, 16)
    await store_vectors(knowledge.database, organization_id=owner, base=base, vectors=vectors)
    query = random_vectors(1, 16, seed=99)[0]

    async with knowledge.database.transaction() as session:
        found = await SQLiteSearch().nearest(session, scope_of(owner, base), query, 10)
        texts = {
            row.id: row.text
            for row in await session.execute(select(KnowledgeChunk.id, KnowledgeChunk.text))
        }

    expected = np.argsort(-(np.stack(vectors) @ query))[:10]
    assert [texts[hit.chunk_id] for hit in found] == [f"chunk {n}" for n in expected]
    np.testing.assert_allclose(
        [hit.score for hit in found], (np.stack(vectors) @ query)[expected], rtol=1e-5
    )


@pytest.mark.skipif(
    importlib.util.find_spec("sqlite_vec") is None
    or not hasattr(sqlite3.Connection, "enable_load_extension"),
    reason="sqlite-vec is not installed, or this Python's sqlite3 cannot load extensions",
)
async def test_sqlite_vec_ranks_like_the_numpy_scan(
    knowledge: Knowledge, monkeypatch: pytest.MonkeyPatch
) -> None:
    knowledge.embedder = HashingEmbedder(dimension=16)
    owner = await knowledge.owner()
    base = await knowledge.base(owner)
    await store_vectors(
        knowledge.database, organization_id=owner, base=base, vectors=random_vectors(50, 16)
    )
    query = random_vectors(1, 16, seed=5)[0]
    async with knowledge.database.transaction() as session:
        with_vec = await SQLiteSearch().nearest(session, scope_of(owner, base), query, 5)
    monkeypatch.setattr(sqlite_backend, "_vec_functions", _never)
    async with knowledge.database.transaction() as session:
        with_numpy = await SQLiteSearch().nearest(session, scope_of(owner, base), query, 5)

    assert [hit.chunk_id for hit in with_vec] == [hit.chunk_id for hit in with_numpy]


async def _never(_session: object) -> bool:
    return False


async def test_the_full_text_index_follows_edits_and_deletes(knowledge: Knowledge) -> None:
    owner = await knowledge.owner()
    base = await knowledge.base(owner)
    document = await knowledge.ingest(owner, base.id, "Quinoa salad with lemon.")
    scope = scope_of(owner, base)

    async with knowledge.database.transaction() as session:
        assert len(await SQLiteSearch().matching(session, scope, ["quinoa"], 5)) == 1
        await session.execute(update(KnowledgeChunk).values(text="Barley soup with thyme."))
        assert await SQLiteSearch().matching(session, scope, ["quinoa"], 5) == []
        assert len(await SQLiteSearch().matching(session, scope, ["barley"], 5)) == 1
    await knowledge.ingest(owner, base.id, "Barley bread.", name="bread.md")
    async with knowledge.database.transaction() as session:
        document_row = await session.get(type(document), document.id)
        await session.delete(document_row)
        await session.flush()
        hits = await SQLiteSearch().matching(session, scope, ["barley"], 5)

    assert len(hits) == 1
