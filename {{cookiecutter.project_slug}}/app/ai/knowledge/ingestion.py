"""Documents into chunks and vectors, atomically: a document is indexed whole or not at all.

The slow part (extraction, chunking, embedding, which may call a vendor) runs outside
any transaction; the chunks and the `indexed` status are then written in one. Any
failure leaves no chunk behind and marks the document `failed` with the reason.
"""

from __future__ import annotations

import asyncio
import uuid

import structlog

from app.ai.knowledge import repository
from app.ai.knowledge.chunking import Chunk, ChunkingOptions, chunk_text
from app.ai.knowledge.embedders.base import Embedder, EmbeddingError
from app.ai.knowledge.extraction import ExtractionError, extract_text
from app.ai.knowledge.repository import DocumentUpload, EmbeddingModelMismatchError
from app.db.session import Database
from app.models import DocumentStatus, KnowledgeDocument

logger = structlog.get_logger(__name__)

# Failures that are the document's or the embedder's, reported as the reason as they are.
_EXPECTED = (ExtractionError, EmbeddingError, EmbeddingModelMismatchError)


class NoChunksError(ExtractionError):
    """The document has headings but no text under them."""


async def ingest(
    database: Database,
    embedder: Embedder,
    *,
    organization_id: uuid.UUID,
    base_id: uuid.UUID,
    upload: DocumentUpload,
    options: ChunkingOptions,
) -> KnowledgeDocument:
    """Add a document to a base and index it now; a re-upload returns the existing one.

    Raises:
        NotFoundError: the base is missing or another user's.
        UnsupportedDocumentError: the upload is empty or of an unsupported type.
    """
    async with database.transaction() as session:
        document, needs_indexing = await repository.add_document(
            session, organization_id=organization_id, base_id=base_id, upload=upload
        )
    if not needs_indexing:
        return document
    indexed = await index_document(
        database,
        embedder,
        organization_id=organization_id,
        document_id=document.id,
        content=upload.content,
        options=options,
    )
    return indexed or document


async def index_document(
    database: Database,
    embedder: Embedder,
    *,
    organization_id: uuid.UUID,
    document_id: uuid.UUID,
    content: bytes,
    options: ChunkingOptions,
) -> KnowledgeDocument | None:
    """Index a pending document from its bytes; None if it was deleted in the meantime.

    Unexpected errors (the database failing, say) are raised after the document is
    marked failed, so a background job's log shows them.
    """
    async with database.transaction() as session:
        document = await repository.get_document(
            session, organization_id=organization_id, document_id=document_id
        )
        if document is None:
            return None
        base = await repository.get_base(
            session, organization_id=organization_id, base_id=document.base_id
        )
        if base is None:
            return None
    try:
        repository.check_embedder(base, embedder)
        # Parsing a large PDF takes a while; the event loop keeps serving meanwhile.
        chunks = await asyncio.to_thread(
            _chunks_of, content, document.content_type, document.source_name, options
        )
        if not chunks:
            raise NoChunksError("the document has headings but no text under them")
        vectors = await embedder.embed([chunk.embedding_text for chunk in chunks])
        async with database.transaction() as session:
            current = await repository.get_document(
                session, organization_id=organization_id, document_id=document_id
            )
            if current is None:
                return None
            await repository.store_chunks(
                session, document=current, chunks=chunks, vectors=vectors, embedder=embedder
            )
        return current
    except _EXPECTED as exc:
        reason = exc.detail if isinstance(exc, EmbeddingModelMismatchError) else str(exc)
        return await _mark_failed(database, organization_id, document_id, reason)
    except Exception as exc:
        await _mark_failed(
            database, organization_id, document_id, f"indexing failed: {type(exc).__name__}"
        )
        raise


def _chunks_of(
    content: bytes, content_type: str, source: str, options: ChunkingOptions
) -> list[Chunk]:
    return chunk_text(extract_text(content, content_type), source=source, options=options)


async def _mark_failed(
    database: Database, organization_id: uuid.UUID, document_id: uuid.UUID, reason: str
) -> KnowledgeDocument | None:
    logger.warning("knowledge_document_failed", document_id=str(document_id), reason=reason)
    async with database.transaction() as session:
        document = await repository.get_document(
            session, organization_id=organization_id, document_id=document_id
        )
        if document is not None:
            document.status = DocumentStatus.FAILED
            document.failure_reason = reason
            document.chunk_count = 0
            await session.flush()
        return document
