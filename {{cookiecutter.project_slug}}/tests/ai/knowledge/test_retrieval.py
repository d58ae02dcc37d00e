"""Hybrid search on every backend: relevance, fusion, limits, owner isolation and models."""

from __future__ import annotations

import uuid

import pytest

from app.ai.knowledge import repository
from app.ai.knowledge.embedders.hashing import HashingEmbedder
from app.ai.knowledge.repository import EmbeddingModelMismatchError
from app.ai.knowledge.retrieval import RRF_K, reciprocal_rank_fusion
from app.ai.knowledge.stores.base import RankedChunk
from app.core.errors import NotFoundError, UnprocessableError
from tests.ai.knowledge.conftest import Knowledge

GUIDE = """# Espresso guide

## Grinding
Grind finely, like table salt, and adjust the grinder one step at a time.

## Brewing
A shot takes about twenty-five seconds at nine bars of pressure.

# Tea guide

## Steeping
Green tea steeps for two minutes in water below boiling; black tea takes four.
"""


def ranked(*chunk_ids: int) -> list[RankedChunk]:
    return [RankedChunk(chunk_id, 0.0) for chunk_id in chunk_ids]


def test_fusion_adds_reciprocal_ranks_from_each_list() -> None:
    fused = reciprocal_rank_fusion([ranked(1, 2, 3), ranked(3, 4)])

    assert fused[3] == pytest.approx(1 / (RRF_K + 3) + 1 / (RRF_K + 1))
    assert fused[1] == pytest.approx(1 / (RRF_K + 1))
    assert fused[4] == pytest.approx(1 / (RRF_K + 2))
    assert sorted(fused, key=lambda chunk_id: -fused[chunk_id])[0] == 3


async def test_finds_the_section_that_answers(knowledge: Knowledge) -> None:
    owner = await knowledge.owner()
    base = await knowledge.base(owner)
    document = await knowledge.ingest(owner, base.id, GUIDE, name="drinks.md")

    results = await knowledge.search(owner, [base.id], "how long should green tea steep?")

    best = results[0]
    assert "Green tea steeps" in best.text
    assert best.heading == "Tea guide > Steeping"
    assert best.source == "drinks.md"
    assert best.document_id == document.id
    assert best.base_id == base.id
    assert 0 < best.score <= 1.0
    assert [result.score for result in results] == sorted(
        (result.score for result in results), reverse=True
    )


async def test_a_chunk_first_in_both_rankings_scores_one(knowledge: Knowledge) -> None:
    owner = await knowledge.owner()
    base = await knowledge.base(owner)
    await knowledge.ingest(owner, base.id, GUIDE)

    results = await knowledge.search(owner, [base.id], "grinder table salt grind finely")

    assert results[0].score == pytest.approx(1.0)
    assert results[0].heading == "Espresso guide > Grinding"


async def test_top_k_and_min_score_limit_results(knowledge: Knowledge) -> None:
    owner = await knowledge.owner()
    base = await knowledge.base(owner)
    await knowledge.ingest(owner, base.id, GUIDE)

    assert len(await knowledge.search(owner, [base.id], "tea shot grind", top_k=2)) == 2
    strict = await knowledge.search(owner, [base.id], "nine bars of pressure", min_score=0.99)
    assert [result.heading for result in strict] == ["Espresso guide > Brewing"]


async def test_searches_several_bases_of_the_owner(knowledge: Knowledge) -> None:
    owner = await knowledge.owner()
    coffee, tea = await knowledge.base(owner, "coffee"), await knowledge.base(owner, "tea")
    await knowledge.ingest(owner, coffee.id, "Espresso needs a fine grind.")
    await knowledge.ingest(owner, tea.id, "Oolong tea is partly oxidised.")

    results = await knowledge.search(owner, [coffee.id, tea.id], "oxidised oolong")

    assert results[0].base_id == tea.id
    assert {result.base_id for result in results} == {coffee.id, tea.id}


async def test_another_owners_base_is_not_found(knowledge: Knowledge) -> None:
    owner, stranger = await knowledge.owner(), await knowledge.owner()
    base = await knowledge.base(owner)
    await knowledge.ingest(owner, base.id, GUIDE)

    with pytest.raises(NotFoundError):
        await knowledge.search(stranger, [base.id], "green tea")
    with pytest.raises(NotFoundError):
        await knowledge.search(owner, [base.id, uuid.uuid4()], "green tea")


async def test_results_never_include_another_owners_chunks(knowledge: Knowledge) -> None:
    owner, stranger = await knowledge.owner(), await knowledge.owner()
    mine, theirs = await knowledge.base(owner), await knowledge.base(stranger)
    await knowledge.ingest(owner, mine.id, "Kettles boil water.")
    await knowledge.ingest(stranger, theirs.id, "Secret tea steeping times of the stranger.")

    results = await knowledge.search(owner, [mine.id], "secret tea steeping stranger")

    assert {result.base_id for result in results} == {mine.id}


async def test_refuses_a_base_embedded_by_another_model(knowledge: Knowledge) -> None:
    owner = await knowledge.owner()
    base = await knowledge.base(owner)
    await knowledge.ingest(owner, base.id, GUIDE)
    knowledge.embedder = HashingEmbedder(dimension=384)

    with pytest.raises(EmbeddingModelMismatchError, match="re-index"):
        await knowledge.search(owner, [base.id], "green tea")


async def test_refuses_to_mix_bases_of_different_models(knowledge: Knowledge) -> None:
    owner = await knowledge.owner()
    first = await knowledge.base(owner, "first")
    knowledge.embedder = HashingEmbedder(dimension=384)
    second = await knowledge.base(owner, "second")

    with pytest.raises(EmbeddingModelMismatchError):
        await knowledge.search(owner, [second.id, first.id], "tea")


async def test_deleted_documents_are_no_longer_found(knowledge: Knowledge) -> None:
    owner = await knowledge.owner()
    base = await knowledge.base(owner)
    kept = await knowledge.ingest(owner, base.id, "Cast iron pans need seasoning.", name="a")
    gone = await knowledge.ingest(owner, base.id, "Seasoning pans with flaxseed oil.", name="b")
    async with knowledge.database.transaction() as session:
        assert await repository.delete_document(session, organization_id=owner, document_id=gone.id)

    results = await knowledge.search(owner, [base.id], "flaxseed seasoning")

    assert {result.document_id for result in results} == {kept.id}


async def test_a_query_of_stopwords_only_still_answers(knowledge: Knowledge) -> None:
    owner = await knowledge.owner()
    base = await knowledge.base(owner)
    await knowledge.ingest(owner, base.id, GUIDE)

    assert await knowledge.search(owner, [base.id], "what is it?") == []


@pytest.mark.parametrize(
    ("query", "base_ids", "top_k", "message"),
    [("  ", True, 5, "empty"), ("tea", False, 5, "at least one"), ("tea", True, 0, "top_k")],
)
async def test_bad_search_requests_are_refused(
    knowledge: Knowledge, query: str, base_ids: bool, top_k: int, message: str
) -> None:
    owner = await knowledge.owner()
    base = await knowledge.base(owner)

    with pytest.raises(UnprocessableError, match=message):
        await knowledge.search(owner, [base.id] if base_ids else [], query, top_k=top_k)
