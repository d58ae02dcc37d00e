"""Knowledge bases: documents an owner uploads, split into embedded, searchable chunks."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, IdMixin, TimestampMixin
from app.db.types import str_enum
from app.db.vector import FloatVector, VectorColumn

# Vector sizes with an HNSW index on PostgreSQL (common models: MiniLM 384, nomic and
# Gemini's text-embedding-004 768, bge/mxbai 1024, OpenAI small 1536, OpenAI large and
# gemini-embedding-001 3072). Other sizes are searched exactly, which is correct but
# reads every vector of the bases searched.
HNSW_DIMENSIONS = (256, 384, 512, 768, 1024, 1536, 3072)
FULL_TEXT_TABLE = "knowledge_chunks_fts"


def hnsw_index_name(dimension: int) -> str:
    """The PostgreSQL HNSW index over vectors of one size."""
    return f"ix_knowledge_chunks_embedding_hnsw_{dimension}"


# Full-text search differs per database, so the migration builds it by hand and the
# models leave it out: a generated tsvector column with a GIN index on PostgreSQL, an
# FTS5 table kept in step by triggers on SQLite. The HNSW indexes above are
# PostgreSQL-only too. alembic/env.py skips these names when comparing models and tables.
DATABASE_ONLY_NAMES = frozenset(
    {
        "knowledge_chunks.search_vector",
        "ix_knowledge_chunks_search_vector",
        FULL_TEXT_TABLE,
        *(f"{FULL_TEXT_TABLE}_{shadow}" for shadow in ("data", "idx", "docsize", "config")),
        *(hnsw_index_name(size) for size in HNSW_DIMENSIONS),
    }
)
Base.metadata.info.setdefault("database_only_names", set()).update(DATABASE_ONLY_NAMES)


class DocumentStatus(StrEnum):
    """Whether a document can be searched yet, or why it cannot."""

    PENDING = "pending"
    INDEXED = "indexed"
    FAILED = "failed"


class KnowledgeBase(IdMixin, TimestampMixin, Base):
    """An organisation's collection of documents, all embedded by one model."""

    __tablename__ = "knowledge_bases"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    # Who created it: per-user limits and the audit log read it; access goes by organisation.
    owner_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    embedding_model: Mapped[str] = mapped_column(String(200))
    embedding_dimension: Mapped[int] = mapped_column(Integer)


class KnowledgeDocument(IdMixin, TimestampMixin, Base):
    """One uploaded or fetched document; the same bytes twice in a base are one document."""

    __tablename__ = "knowledge_documents"
    __table_args__ = (UniqueConstraint("base_id", "content_hash"),)

    base_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("knowledge_bases.id", ondelete="CASCADE"), index=True
    )
    source_name: Mapped[str] = mapped_column(String(255))
    source_url: Mapped[str | None] = mapped_column(String(2048))
    content_type: Mapped[str] = mapped_column(String(100))
    content_hash: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[DocumentStatus] = mapped_column(
        str_enum(DocumentStatus), default=DocumentStatus.PENDING, index=True
    )
    failure_reason: Mapped[str | None] = mapped_column(Text)
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)
    indexed_at: Mapped[datetime | None] = mapped_column()


class KnowledgeChunk(Base):
    """A piece of a document with its embedding.

    Integer keys, unlike the rest of the schema: SQLite's full-text index refers to rows
    by an integer key, and chunks are many and never addressed without their owner's base.
    """

    __tablename__ = "knowledge_chunks"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    document_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("knowledge_documents.id", ondelete="CASCADE"), index=True
    )
    base_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("knowledge_bases.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    heading: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    token_count: Mapped[int] = mapped_column(Integer)
    embedding_model: Mapped[str] = mapped_column(String(200))
    dimension: Mapped[int] = mapped_column(Integer)
    embedding: Mapped[FloatVector] = mapped_column(VectorColumn())


class AgentKnowledgeBase(Base):
    """An agent may search a base: its `search_knowledge` tool reads these links."""

    __tablename__ = "agent_knowledge_bases"

    agent_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    base_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("knowledge_bases.id", ondelete="CASCADE"), primary_key=True, index=True
    )
