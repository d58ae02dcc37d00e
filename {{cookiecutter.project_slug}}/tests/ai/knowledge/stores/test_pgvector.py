"""pgvector: the HNSW index is used, filters keep full results, every vector size works."""

from __future__ import annotations

from collections.abc import AsyncIterator

import numpy as np
import pytest
from sqlalchemy import text

from app.ai.knowledge.embedders.hashing import HashingEmbedder
from app.ai.knowledge.stores.base import scope_bind_params
from app.ai.knowledge.stores.pgvector import PgVectorSearch, nearest_statement
from app.db.session import Database
from tests.ai.knowledge.conftest import Knowledge, knowledge_on
from tests.ai.knowledge.stores.conftest import random_vectors, scope_of, store_vectors


@pytest.fixture
async def knowledge(knowledge_databases: dict[str, Database]) -> AsyncIterator[Knowledge]:
    async with knowledge_on(knowledge_databases, "postgresql") as kit:
        yield kit


async def plan(knowledge: Knowledge, dimension: int, parameters: dict[str, object]) -> str:
    statement = text("EXPLAIN " + nearest_statement(dimension).text).bindparams(
        *scope_bind_params()
    )
    async with knowledge.database.transaction() as session:
        await session.execute(text("SET LOCAL enable_seqscan = off"))
        rows = await session.execute(statement, parameters)
        return "\n".join(row[0] for row in rows)


@pytest.mark.parametrize(("dimension", "kind"), [(768, "vector"), (3072, "halfvec")])
async def test_nearest_neighbours_use_the_hnsw_index(
    knowledge: Knowledge, dimension: int, kind: str
) -> None:
    knowledge.embedder = HashingEmbedder(dimension=dimension)
    owner = await knowledge.owner()
    base = await knowledge.base(owner)
    await store_vectors(
        knowledge.database, organization_id=owner, base=base, vectors=random_vectors(300, dimension)
    )
    query = random_vectors(1, dimension, seed=3)[0]
    literal = "[" + ",".join(str(float(v)) for v in query) + "]"

    shown = await plan(
        knowledge, dimension, {**scope_of(owner, base).parameters(), "vector": literal, "limit": 5}
    )

    assert f"ix_knowledge_chunks_embedding_hnsw_{dimension}" in shown, shown
    async with knowledge.database.transaction() as session:
        found = await PgVectorSearch().nearest(session, scope_of(owner, base), query, 5)
    assert len(found) == 5
    assert found[0].score > found[-1].score
    assert kind in nearest_statement(dimension).text


async def test_a_small_base_among_many_gets_full_results(knowledge: Knowledge) -> None:
    """HNSW filters after the graph walk; the iterative scan keeps walking until enough pass."""
    knowledge.embedder = HashingEmbedder(dimension=384)
    owner, crowd = await knowledge.owner(), await knowledge.owner()
    small, big = await knowledge.base(owner), await knowledge.base(crowd)
    query = random_vectors(1, 384, seed=11)[0]
    near_query = [np.float32(1.0) * query + 0.01 * v for v in random_vectors(400, 384, seed=2)]
    await store_vectors(knowledge.database, organization_id=crowd, base=big, vectors=near_query)
    await store_vectors(
        knowledge.database,
        organization_id=owner,
        base=small,
        vectors=random_vectors(8, 384, seed=4),
    )

    async with knowledge.database.transaction() as session:
        await session.execute(text("SET LOCAL enable_seqscan = off"))
        found = await PgVectorSearch().nearest(session, scope_of(owner, small), query, 8)

    assert len(found) == 8


async def test_a_size_without_an_index_is_searched_exactly(knowledge: Knowledge) -> None:
    knowledge.embedder = HashingEmbedder(dimension=100)
    owner = await knowledge.owner()
    base = await knowledge.base(owner)
    vectors = random_vectors(40, 100)
    await store_vectors(knowledge.database, organization_id=owner, base=base, vectors=vectors)
    query = random_vectors(1, 100, seed=8)[0]

    async with knowledge.database.transaction() as session:
        found = await PgVectorSearch().nearest(session, scope_of(owner, base), query, 3)

    best = np.sort(np.stack(vectors) @ query)[::-1][:3]
    np.testing.assert_allclose([hit.score for hit in found], best, rtol=1e-4)
