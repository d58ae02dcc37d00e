"""Ingestion on every backend: indexed whole or failed with a reason, never half-indexed."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from sqlalchemy import select

from app.ai.knowledge.chunking import ChunkingOptions
from app.ai.knowledge.embedders.base import EmbeddingError, Vector
from app.ai.knowledge.embedders.hashing import HashingEmbedder
from app.ai.knowledge.repository import UnsupportedDocumentError
from app.core.errors import NotFoundError
from app.models import DocumentStatus, KnowledgeChunk, KnowledgeDocument
from tests.ai.knowledge.conftest import Knowledge

LONG = "\n\n".join(f"Paragraph {n} talks about topic number {n} at length." for n in range(60))


class FailingAfter(HashingEmbedder):
    """The real hashing embedder, failing from its n-th batch on (a vendor outage)."""

    def __init__(self, batches_before_failure: int) -> None:
        super().__init__(batch_size=4)
        self.remaining = batches_before_failure

    async def _embed_batch(self, texts: list[str]) -> Sequence[Vector]:
        if self.remaining == 0:
            raise EmbeddingError("embedding service unavailable")
        self.remaining -= 1
        return await super()._embed_batch(texts)


async def chunks_of(knowledge: Knowledge, document: KnowledgeDocument) -> list[KnowledgeChunk]:
    async with knowledge.database.transaction() as session:
        rows = await session.scalars(
            select(KnowledgeChunk)
            .where(KnowledgeChunk.document_id == document.id)
            .order_by(KnowledgeChunk.position)
        )
        return list(rows)


async def test_a_document_is_indexed_with_its_chunks(knowledge: Knowledge) -> None:
    knowledge.options = ChunkingOptions(max_tokens=40, overlap_tokens=8)
    owner = await knowledge.owner()
    base = await knowledge.base(owner)

    document = await knowledge.ingest(owner, base.id, f"# Topics\n\n{LONG}", name="topics.md")

    assert document.status is DocumentStatus.INDEXED
    assert document.failure_reason is None
    assert document.indexed_at is not None
    chunks = await chunks_of(knowledge, document)
    assert len(chunks) == document.chunk_count > 1
    assert [chunk.position for chunk in chunks] == list(range(len(chunks)))
    assert {chunk.heading for chunk in chunks} == {"Topics"}
    assert {(chunk.embedding_model, chunk.dimension) for chunk in chunks} == {
        (knowledge.embedder.model, knowledge.embedder.dimension)
    }
    first = chunks[0].embedding
    assert first.shape == (knowledge.embedder.dimension,)
    assert float(np.linalg.norm(first)) == pytest.approx(1.0, abs=1e-5)


async def test_the_same_bytes_twice_are_one_document(knowledge: Knowledge) -> None:
    owner = await knowledge.owner()
    base = await knowledge.base(owner)

    first = await knowledge.ingest(owner, base.id, LONG, name="a.md")
    again = await knowledge.ingest(owner, base.id, LONG, name="copy-of-a.md")

    assert again.id == first.id
    assert await knowledge.count(KnowledgeDocument) == 1
    assert await knowledge.count(KnowledgeChunk) == first.chunk_count


async def test_a_pdf_that_does_not_parse_fails_with_the_reason(knowledge: Knowledge) -> None:
    owner = await knowledge.owner()
    base = await knowledge.base(owner)

    document = await knowledge.ingest(
        owner, base.id, b"%PDF-1.7\nnot really a pdf", name="x.pdf", content_type="application/pdf"
    )

    assert document.status is DocumentStatus.FAILED
    assert document.failure_reason is not None
    assert "PDF" in document.failure_reason
    assert await knowledge.count(KnowledgeChunk) == 0


async def test_an_embedding_outage_leaves_no_chunk_behind(knowledge: Knowledge) -> None:
    knowledge.options = ChunkingOptions(max_tokens=20, overlap_tokens=0)
    knowledge.embedder = FailingAfter(batches_before_failure=2)
    owner = await knowledge.owner()
    base = await knowledge.base(owner)

    document = await knowledge.ingest(owner, base.id, LONG)

    assert document.status is DocumentStatus.FAILED
    assert document.failure_reason == "embedding service unavailable"
    assert document.chunk_count == 0
    assert await knowledge.count(KnowledgeChunk) == 0
    knowledge.embedder = HashingEmbedder()
    assert await knowledge.search(owner, [base.id], "topic number 3") == []


async def test_uploading_a_failed_document_again_retries_it(knowledge: Knowledge) -> None:
    knowledge.embedder = FailingAfter(batches_before_failure=0)
    owner = await knowledge.owner()
    base = await knowledge.base(owner)
    failed = await knowledge.ingest(owner, base.id, LONG)
    knowledge.embedder = HashingEmbedder()

    retried = await knowledge.ingest(owner, base.id, LONG)

    assert retried.id == failed.id
    assert retried.status is DocumentStatus.INDEXED
    assert retried.failure_reason is None
    assert await knowledge.count(KnowledgeChunk) == retried.chunk_count > 0


async def test_a_base_of_another_model_fails_the_document(knowledge: Knowledge) -> None:
    owner = await knowledge.owner()
    base = await knowledge.base(owner)
    knowledge.embedder = HashingEmbedder(dimension=384)

    document = await knowledge.ingest(owner, base.id, LONG)

    assert document.status is DocumentStatus.FAILED
    assert document.failure_reason is not None
    assert "re-index" in document.failure_reason
    assert await knowledge.count(KnowledgeChunk) == 0


async def test_headings_without_text_fail_the_document(knowledge: Knowledge) -> None:
    owner = await knowledge.owner()
    base = await knowledge.base(owner)

    document = await knowledge.ingest(owner, base.id, "# Title\n\n## Subtitle\n")

    assert document.status is DocumentStatus.FAILED
    assert document.failure_reason == "the document has headings but no text under them"


@pytest.mark.parametrize(
    ("content", "content_type", "message"),
    [
        (b"   \n", "text/plain", "empty"),
        (b"", "text/markdown", "empty"),
        (b"PK\x03\x04", "application/zip", "unsupported content type"),
    ],
)
async def test_unusable_uploads_are_refused_before_storing(
    knowledge: Knowledge, content: bytes, content_type: str, message: str
) -> None:
    owner = await knowledge.owner()
    base = await knowledge.base(owner)

    with pytest.raises(UnsupportedDocumentError, match=message):
        await knowledge.ingest(owner, base.id, content, content_type=content_type)
    assert await knowledge.count(KnowledgeDocument) == 0


async def test_nobody_adds_to_another_owners_base(knowledge: Knowledge) -> None:
    owner, stranger = await knowledge.owner(), await knowledge.owner()
    base = await knowledge.base(owner)

    with pytest.raises(NotFoundError):
        await knowledge.ingest(stranger, base.id, LONG)
    assert await knowledge.count(KnowledgeDocument) == 0
