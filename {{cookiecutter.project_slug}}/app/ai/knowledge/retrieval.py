"""Hybrid retrieval: vector similarity and full text, fused by reciprocal rank fusion.

Each ranking contributes 1 / (RRF_K + rank) for every chunk it returns (rank 1 is the
best). K = 60 is the constant of the original RRF paper (Cormack, Clarke and Buettcher,
2009): large enough that the first few places of one list do not drown the other list,
and robust across collections without tuning. Scores are reported divided by the best
possible fused score, so 1.0 means "first in both rankings" and 0.5 "first in one only";
`min_score` filters on that scale.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.ai.knowledge import repository
from app.ai.knowledge.embedders.base import Embedder
from app.ai.knowledge.stores.base import RankedChunk, SearchScope
from app.ai.knowledge.stores.factory import backend_for
from app.ai.knowledge.text import content_words
from app.core.errors import UnprocessableError
from app.models import KnowledgeChunk, KnowledgeDocument

RRF_K = 60
DEFAULT_CANDIDATES = 50
MAX_QUERY_WORDS = 32


@dataclass(frozen=True, slots=True)
class SearchResult:
    """One retrieved chunk with what a citation needs."""

    chunk_id: int
    document_id: uuid.UUID
    base_id: uuid.UUID
    position: int
    text: str
    heading: str | None
    source: str
    source_url: str | None
    score: float


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[RankedChunk]], *, k: int = RRF_K
) -> dict[int, float]:
    """Fused scores by chunk id: the sum over rankings of 1 / (k + rank)."""
    fused: defaultdict[int, float] = defaultdict(float)
    for ranking in rankings:
        for rank, ranked in enumerate(ranking, start=1):
            fused[ranked.chunk_id] += 1.0 / (k + rank)
    return dict(fused)


async def search(
    session: AsyncSession,
    embedder: Embedder,
    *,
    organization_id: uuid.UUID,
    base_ids: Sequence[uuid.UUID],
    query: str,
    top_k: int = 5,
    min_score: float | None = None,
    candidates: int = DEFAULT_CANDIDATES,
) -> list[SearchResult]:
    """The `top_k` chunks of the organisation's bases that best answer `query`, best first.

    Raises:
        NotFoundError: a base is missing or another organisation's.
        EmbeddingModelMismatchError: the bases were embedded by another model than the
            embedder's (or by different models), so their vectors cannot be compared.
        UnprocessableError: an empty query, no bases, or `top_k` below 1.
    """
    if not query.strip():
        raise UnprocessableError("The search query is empty")
    if not base_ids:
        raise UnprocessableError("Name at least one knowledge base to search")
    if top_k < 1:
        raise UnprocessableError("top_k must be at least 1")
    bases = await repository.get_bases(session, organization_id=organization_id, base_ids=base_ids)
    for base in bases:
        repository.check_embedder(base, embedder)
    scope = SearchScope(
        organization_id=organization_id,
        base_ids=tuple(base.id for base in bases),
        embedding_model=embedder.model,
        dimension=embedder.dimension,
    )
    backend = backend_for(session.get_bind().dialect.name)
    pool = max(candidates, top_k)
    vector = await embedder.embed_one(query)
    by_vector = await backend.nearest(session, scope, vector, pool) if vector.any() else []
    words = list(dict.fromkeys(content_words(query)))[:MAX_QUERY_WORDS]
    by_text = await backend.matching(session, scope, words, pool)
    best_possible = 2.0 / (RRF_K + 1)
    fused = {
        chunk_id: score / best_possible
        for chunk_id, score in reciprocal_rank_fusion([by_vector, by_text]).items()
    }
    ranked = sorted(fused.items(), key=lambda item: (-item[1], item[0]))
    if min_score is not None:
        ranked = [(chunk_id, score) for chunk_id, score in ranked if score >= min_score]
    return await _results(session, ranked[:top_k])


async def _results(session: AsyncSession, ranked: list[tuple[int, float]]) -> list[SearchResult]:
    if not ranked:
        return []
    rows = await session.execute(
        select(
            KnowledgeChunk.id,
            KnowledgeChunk.document_id,
            KnowledgeChunk.base_id,
            KnowledgeChunk.position,
            KnowledgeChunk.text,
            KnowledgeChunk.heading,
            KnowledgeDocument.source_name,
            KnowledgeDocument.source_url,
        )
        .join(KnowledgeDocument, KnowledgeDocument.id == KnowledgeChunk.document_id)
        .where(KnowledgeChunk.id.in_([chunk_id for chunk_id, _ in ranked]))
    )
    found = {row.id: row for row in rows}
    return [
        SearchResult(
            chunk_id=row.id,
            document_id=row.document_id,
            base_id=row.base_id,
            position=row.position,
            text=row.text,
            heading=row.heading,
            source=row.source_name,
            source_url=row.source_url,
            score=round(score, 6),
        )
        for chunk_id, score in ranked
        if (row := found.get(chunk_id)) is not None
    ]
