"""Helpers for backend tests: chunks with chosen vectors, written straight to a base."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import numpy as np

from app.ai.knowledge import repository
from app.ai.knowledge.chunking import Chunk
from app.ai.knowledge.embedders.base import Vector, normalized
from app.ai.knowledge.embedders.hashing import HashingEmbedder
from app.ai.knowledge.repository import DocumentUpload
from app.ai.knowledge.stores.base import SearchScope
from app.db.session import Database
from app.models import KnowledgeBase


def random_vectors(count: int, dimension: int, seed: int = 7) -> list[Vector]:
    generator = np.random.default_rng(seed)
    return [
        normalized(generator.standard_normal(dimension).astype(np.float32)) for _ in range(count)
    ]


async def store_vectors(
    database: Database,
    *,
    organization_id: uuid.UUID,
    base: KnowledgeBase,
    vectors: Sequence[Vector],
    texts: Sequence[str] | None = None,
) -> None:
    """One document whose chunks carry exactly these vectors (and texts)."""
    embedder = HashingEmbedder(dimension=base.embedding_dimension)
    texts = texts or [f"chunk {n}" for n in range(len(vectors))]
    chunks = [
        Chunk(source="v", position=n, text=t, heading=None, token_count=2, content_hash=str(n))
        for n, t in enumerate(texts)
    ]
    async with database.transaction() as session:
        document, _ = await repository.add_document(
            session,
            organization_id=organization_id,
            base_id=base.id,
            upload=DocumentUpload("v.txt", uuid.uuid4().bytes, "text/plain"),
        )
        await repository.store_chunks(
            session, document=document, chunks=chunks, vectors=vectors, embedder=embedder
        )


def scope_of(organization_id: uuid.UUID, base: KnowledgeBase) -> SearchScope:
    return SearchScope(
        organization_id=organization_id,
        base_ids=(base.id,),
        embedding_model=base.embedding_model,
        dimension=base.embedding_dimension,
    )
