"""Organisation-scoped reads and writes of knowledge bases, documents and chunks.

Every function takes the organisation and finds nothing that belongs to another: another
organisation's base or document is reported exactly like a missing one. Functions only flush;
the caller's transaction commits, so a document's chunks land together or not at all.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.ai.knowledge.chunking import Chunk
from app.ai.knowledge.embedders.base import Embedder, Vector
from app.ai.knowledge.extraction import ExtractionError, document_format
from app.core.errors import ConflictError, NotFoundError, UnprocessableError
from app.db.types import utc_now
from app.models import (
    DocumentStatus,
    KnowledgeBase,
    KnowledgeChunk,
    KnowledgeDocument,
)

# A document pending this long has lost its indexing job or waits behind a long queue;
# uploading it again queues another. Re-indexing replaces the chunks, so even a slow
# indexing that is still running cannot leave duplicates.
STALE_PENDING = timedelta(minutes=15)
# Documents the orphan sweep looks at per pass; the rest wait for the next one.
PENDING_SWEEP_BATCH = 200


class EmbeddingModelMismatchError(ConflictError):
    """Vectors of different models are not comparable: searching or adding needs a re-index."""


class UnsupportedDocumentError(UnprocessableError):
    """The upload cannot become a document: empty, or of a type that is not supported."""


@dataclass(frozen=True, slots=True)
class DocumentUpload:
    """A document as received: its bytes, declared type and where it came from."""

    source_name: str
    content: bytes
    content_type: str
    source_url: str | None = None

    @property
    def content_hash(self) -> str:
        """SHA-256 of the bytes, so the same upload is recognised and stored once."""
        return hashlib.sha256(self.content).hexdigest()


def check_embedder(base: KnowledgeBase, embedder: Embedder) -> None:
    """Refuse to mix vector spaces: the base's model and size must be the embedder's."""
    if (base.embedding_model, base.embedding_dimension) != (embedder.model, embedder.dimension):
        raise EmbeddingModelMismatchError(
            f"Knowledge base {base.name!r} is embedded with {base.embedding_model} "
            f"({base.embedding_dimension} dimensions) but the service embeds with "
            f"{embedder.model} ({embedder.dimension}); re-index the base with the current "
            "model, or configure the model it was built with"
        )


async def create_base(
    session: AsyncSession,
    *,
    organization_id: uuid.UUID,
    owner_id: uuid.UUID,
    name: str,
    embedder: Embedder,
    description: str | None = None,
) -> KnowledgeBase:
    """A new, empty base recording the model and vector size its chunks will have."""
    base = KnowledgeBase(
        organization_id=organization_id,
        owner_id=owner_id,
        name=name,
        description=description,
        embedding_model=embedder.model,
        embedding_dimension=embedder.dimension,
    )
    session.add(base)
    await session.flush()
    return base


async def get_base(
    session: AsyncSession, *, organization_id: uuid.UUID, base_id: uuid.UUID
) -> KnowledgeBase | None:
    """The organisation's base, or None for a missing id and for another's alike."""
    return await session.scalar(
        select(KnowledgeBase).where(
            KnowledgeBase.id == base_id, KnowledgeBase.organization_id == organization_id
        )
    )


async def get_bases(
    session: AsyncSession,
    *,
    base_ids: Sequence[uuid.UUID],
    organization_id: uuid.UUID,
) -> list[KnowledgeBase]:
    """The organisation's bases among `base_ids`, in the order given.

    Raises:
        NotFoundError: any id is missing or another organisation's.
    """
    wanted = list(dict.fromkeys(base_ids))
    found = {
        base.id: base
        for base in await session.scalars(
            select(KnowledgeBase).where(
                KnowledgeBase.organization_id == organization_id, KnowledgeBase.id.in_(wanted)
            )
        )
    }
    missing = [str(base_id) for base_id in wanted if base_id not in found]
    if missing:
        raise NotFoundError(f"Knowledge base not found: {', '.join(missing)}")
    return [found[base_id] for base_id in wanted]


async def list_bases(
    session: AsyncSession, *, organization_id: uuid.UUID, skip: int, limit: int
) -> tuple[Sequence[KnowledgeBase], int]:
    """A page of the organisation's bases, newest first, and their total count."""
    owned = KnowledgeBase.organization_id == organization_id
    total = await session.scalar(select(func.count()).select_from(KnowledgeBase).where(owned))
    rows = await session.scalars(
        select(KnowledgeBase)
        .where(owned)
        .order_by(KnowledgeBase.created_at.desc(), KnowledgeBase.id)
        .offset(skip)
        .limit(limit)
    )
    return rows.all(), int(total or 0)


async def delete_base(
    session: AsyncSession, *, organization_id: uuid.UUID, base_id: uuid.UUID
) -> bool:
    """Delete a base with its documents and chunks; False when there was none to delete."""
    base = await get_base(session, organization_id=organization_id, base_id=base_id)
    if base is None:
        return False
    await session.delete(base)
    await session.flush()
    return True


async def get_document(
    session: AsyncSession, *, organization_id: uuid.UUID, document_id: uuid.UUID
) -> KnowledgeDocument | None:
    """The document if its base is the organisation's, else None."""
    return await session.scalar(
        select(KnowledgeDocument)
        .join(KnowledgeBase, KnowledgeBase.id == KnowledgeDocument.base_id)
        .where(
            KnowledgeDocument.id == document_id, KnowledgeBase.organization_id == organization_id
        )
    )


async def list_documents(
    session: AsyncSession,
    *,
    organization_id: uuid.UUID,
    base_id: uuid.UUID,
    skip: int,
    limit: int,
    status: DocumentStatus | None = None,
) -> tuple[Sequence[KnowledgeDocument], int]:
    """A page of one of the organisation's bases' documents, newest first, and their total count."""
    conditions = [
        KnowledgeDocument.base_id == base_id,
        KnowledgeBase.organization_id == organization_id,
    ]
    if status is not None:
        conditions.append(KnowledgeDocument.status == status)
    joined = select(KnowledgeDocument).join(
        KnowledgeBase, KnowledgeBase.id == KnowledgeDocument.base_id
    )
    total = await session.scalar(
        select(func.count()).select_from(joined.where(*conditions).subquery())
    )
    rows = await session.scalars(
        joined.where(*conditions)
        .order_by(KnowledgeDocument.created_at.desc(), KnowledgeDocument.id)
        .offset(skip)
        .limit(limit)
    )
    return rows.all(), int(total or 0)


async def delete_document(
    session: AsyncSession, *, organization_id: uuid.UUID, document_id: uuid.UUID
) -> bool:
    """Delete a document and its chunks; False when there was none to delete."""
    document = await get_document(session, organization_id=organization_id, document_id=document_id)
    if document is None:
        return False
    await session.delete(document)
    await session.flush()
    return True


async def add_document(
    session: AsyncSession, *, organization_id: uuid.UUID, base_id: uuid.UUID, upload: DocumentUpload
) -> tuple[KnowledgeDocument, bool]:
    """The pending document for an upload, and whether it needs indexing.

    The same bytes uploaded to the same base again return the existing document (and
    need no indexing) unless its indexing failed, or it has been pending for longer than
    `STALE_PENDING` (its indexing was cut short by a crash): then it is tried again.

    Raises:
        NotFoundError: the base is missing or another organisation's.
        UnsupportedDocumentError: the upload is empty or of an unsupported type.
    """
    base = await get_base(session, organization_id=organization_id, base_id=base_id)
    if base is None:
        raise NotFoundError("Knowledge base not found")
    try:
        document_format(upload.content_type)
    except ExtractionError as exc:
        raise UnsupportedDocumentError(str(exc)) from None
    if not upload.content.strip():
        raise UnsupportedDocumentError("the document is empty")
    existing = await session.scalar(
        select(KnowledgeDocument).where(
            KnowledgeDocument.base_id == base_id,
            KnowledgeDocument.content_hash == upload.content_hash,
        )
    )
    if existing is not None:
        stale = existing.status is DocumentStatus.PENDING and (
            existing.updated_at < utc_now() - STALE_PENDING
        )
        if existing.status is not DocumentStatus.FAILED and not stale:
            return existing, False
        existing.status, existing.failure_reason = DocumentStatus.PENDING, None
        existing.updated_at = utc_now()
        await session.flush()
        return existing, True
    document = KnowledgeDocument(
        base_id=base_id,
        source_name=upload.source_name[:255],
        source_url=upload.source_url,
        content_type=upload.content_type[:100],
        content_hash=upload.content_hash,
        size_bytes=len(upload.content),
        status=DocumentStatus.PENDING,
        chunk_count=0,
    )
    session.add(document)
    await session.flush()
    return document, True


async def store_chunks(
    session: AsyncSession,
    *,
    document: KnowledgeDocument,
    chunks: Sequence[Chunk],
    vectors: Sequence[Vector],
    embedder: Embedder,
) -> None:
    """Replace the document's chunks with these and mark it indexed, in one flush."""
    if len(chunks) != len(vectors):
        raise ValueError("one vector per chunk is needed")
    await session.execute(delete(KnowledgeChunk).where(KnowledgeChunk.document_id == document.id))
    if chunks:
        await session.execute(
            insert(KnowledgeChunk),
            [
                {
                    "document_id": document.id,
                    "base_id": document.base_id,
                    "position": chunk.position,
                    "text": chunk.text,
                    "heading": chunk.heading,
                    "content_hash": chunk.content_hash,
                    "token_count": chunk.token_count,
                    "embedding_model": embedder.model,
                    "dimension": embedder.dimension,
                    "embedding": vector,
                }
                for chunk, vector in zip(chunks, vectors, strict=True)
            ],
        )
    document.status = DocumentStatus.INDEXED
    document.failure_reason = None
    document.chunk_count = len(chunks)
    document.indexed_at = utc_now()
    await session.flush()


async def pending_document_ids(session: AsyncSession, *, older_than: timedelta) -> list[uuid.UUID]:
    """Every owner's documents pending since before `older_than` ago, for the orphan sweep."""
    rows = await session.scalars(
        select(KnowledgeDocument.id)
        .where(
            KnowledgeDocument.status == DocumentStatus.PENDING,
            KnowledgeDocument.updated_at < utc_now() - older_than,
        )
        .order_by(KnowledgeDocument.updated_at)
        .limit(PENDING_SWEEP_BATCH)
    )
    return list(rows)


async def fail_pending(session: AsyncSession, *, document_id: uuid.UUID, reason: str) -> bool:
    """Mark a document failed if it is still pending; whether it was."""
    result = await session.execute(
        update(KnowledgeDocument)
        .where(
            KnowledgeDocument.id == document_id,
            KnowledgeDocument.status == DocumentStatus.PENDING,
        )
        .values(status=DocumentStatus.FAILED, failure_reason=reason, chunk_count=0)
    )
    return bool(getattr(result, "rowcount", 0))
