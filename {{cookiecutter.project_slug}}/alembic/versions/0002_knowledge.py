"""knowledge bases, documents and embedded chunks

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

PostgreSQL: pgvector's `vector` column (any size; the size is stored beside it), one
partial HNSW index (cosine) per common size, and a generated `tsvector` column with a
GIN index for full-text search. SQLite: vectors as float32 BLOBs, and an FTS5 table
that triggers keep in step with the chunks.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op


revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here: a later change to the models' list needs its own migration.
HNSW_DIMENSIONS = (256, 384, 512, 768, 1024, 1536, 3072)
# pgvector's HNSW indexes `vector` up to 2000 dimensions; larger vectors are indexed
# as half precision (`halfvec`, up to 4000).
MAX_FULL_PRECISION_INDEX = 2000
TEXT_SEARCH_CONFIG = "english"
FTS_TOKENIZER = "porter unicode61 remove_diacritics 2"

PGVECTOR_MISSING = (
    "PostgreSQL cannot enable the pgvector extension ({reason}). Knowledge bases store "
    "their embeddings with pgvector: install it on the database server (the "
    "postgresql-<version>-pgvector package, or the pgvector/pgvector Docker image; "
    "managed services offer it as the `vector` extension), or have a superuser run "
    "`CREATE EXTENSION vector;` in this database. Then run the migration again."
)


class _Vector(sa.types.UserDefinedType[Any]):
    """pgvector's column type, named without importing pgvector."""

    cache_ok = True

    def get_col_spec(self, **_kw: Any) -> str:
        return "VECTOR"


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        _enable_pgvector()
    op.create_table(
        "knowledge_bases",
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("embedding_model", sa.String(length=200), nullable=False),
        sa.Column("embedding_dimension", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_knowledge_bases_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_bases")),
    )
    with op.batch_alter_table("knowledge_bases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_knowledge_bases_owner_id"), ["owner_id"])

    op.create_table(
        "knowledge_documents",
        sa.Column("base_id", sa.Uuid(), nullable=False),
        sa.Column("source_name", sa.String(length=255), nullable=False),
        sa.Column("source_url", sa.String(length=2048), nullable=True),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "indexed",
                "failed",
                name="documentstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("chunk_count", sa.Integer(), nullable=False),
        sa.Column("indexed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["base_id"],
            ["knowledge_bases.id"],
            name=op.f("fk_knowledge_documents_base_id_knowledge_bases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_documents")),
        sa.UniqueConstraint(
            "base_id", "content_hash", name=op.f("uq_knowledge_documents_base_id")
        ),
    )
    with op.batch_alter_table("knowledge_documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_knowledge_documents_base_id"), ["base_id"])
        batch_op.create_index(batch_op.f("ix_knowledge_documents_status"), ["status"])

    op.create_table(
        "knowledge_chunks",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("base_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("heading", sa.Text(), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("token_count", sa.Integer(), nullable=False),
        sa.Column("embedding_model", sa.String(length=200), nullable=False),
        sa.Column("dimension", sa.Integer(), nullable=False),
        sa.Column(
            "embedding", sa.LargeBinary().with_variant(_Vector(), "postgresql"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["base_id"],
            ["knowledge_bases.id"],
            name=op.f("fk_knowledge_chunks_base_id_knowledge_bases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["knowledge_documents.id"],
            name=op.f("fk_knowledge_chunks_document_id_knowledge_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_chunks")),
    )
    with op.batch_alter_table("knowledge_chunks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_knowledge_chunks_base_id"), ["base_id"])
        batch_op.create_index(batch_op.f("ix_knowledge_chunks_document_id"), ["document_id"])

    if postgres:
        _postgres_search()
    else:
        _sqlite_search()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS knowledge_chunks_fts")
    with op.batch_alter_table("knowledge_chunks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_knowledge_chunks_document_id"))
        batch_op.drop_index(batch_op.f("ix_knowledge_chunks_base_id"))
    op.drop_table("knowledge_chunks")
    with op.batch_alter_table("knowledge_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_knowledge_documents_status"))
        batch_op.drop_index(batch_op.f("ix_knowledge_documents_base_id"))
    op.drop_table("knowledge_documents")
    with op.batch_alter_table("knowledge_bases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_knowledge_bases_owner_id"))
    op.drop_table("knowledge_bases")
    # The vector extension stays: other schemas in the database may use it.


def _enable_pgvector() -> None:
    """Create the extension, or stop with what to do when the server cannot provide it."""
    bind = op.get_bind()
    available = bind.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
    ).scalar()
    if not available:
        raise RuntimeError(PGVECTOR_MISSING.format(reason="it is not installed on the server"))
    try:
        bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS vector"))
    except sa.exc.DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise RuntimeError(PGVECTOR_MISSING.format(reason=reason)) from exc
    version = bind.execute(
        sa.text("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
    ).scalar_one()
    # Search relies on halfvec (0.7) and iterative index scans (0.8).
    if tuple(int(part) for part in str(version).split(".")[:2]) < (0, 8):
        raise RuntimeError(
            f"pgvector {version} is too old: 0.8 or newer is needed. Install a newer "
            "pgvector on the server and run `ALTER EXTENSION vector UPDATE;`, then migrate."
        )


def _postgres_search() -> None:
    op.execute(
        "ALTER TABLE knowledge_chunks ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
        f"setweight(to_tsvector('{TEXT_SEARCH_CONFIG}'::regconfig, coalesce(heading, '')), 'A')"
        f" || setweight(to_tsvector('{TEXT_SEARCH_CONFIG}'::regconfig, text), 'B')) STORED"
    )
    op.execute(
        "CREATE INDEX ix_knowledge_chunks_search_vector ON knowledge_chunks "
        "USING gin (search_vector)"
    )
    for size in HNSW_DIMENSIONS:
        kind = "vector" if size <= MAX_FULL_PRECISION_INDEX else "halfvec"
        op.execute(
            f"CREATE INDEX ix_knowledge_chunks_embedding_hnsw_{size} ON knowledge_chunks "
            f"USING hnsw ((embedding::{kind}({size})) {kind}_cosine_ops) "
            f"WHERE dimension = {size}"
        )


def _sqlite_search() -> None:
    # External content: the index stores no second copy of the text, and reads it from
    # knowledge_chunks by its integer key.
    op.execute(
        "CREATE VIRTUAL TABLE knowledge_chunks_fts USING fts5(heading, text, "
        f"content='knowledge_chunks', content_rowid='id', tokenize='{FTS_TOKENIZER}')"
    )
    op.execute(
        "CREATE TRIGGER knowledge_chunks_fts_insert AFTER INSERT ON knowledge_chunks BEGIN "
        "INSERT INTO knowledge_chunks_fts(rowid, heading, text) "
        "VALUES (new.id, new.heading, new.text); END"
    )
    op.execute(
        "CREATE TRIGGER knowledge_chunks_fts_delete AFTER DELETE ON knowledge_chunks BEGIN "
        "INSERT INTO knowledge_chunks_fts(knowledge_chunks_fts, rowid, heading, text) "
        "VALUES ('delete', old.id, old.heading, old.text); END"
    )
    op.execute(
        "CREATE TRIGGER knowledge_chunks_fts_update AFTER UPDATE OF heading, text "
        "ON knowledge_chunks BEGIN "
        "INSERT INTO knowledge_chunks_fts(knowledge_chunks_fts, rowid, heading, text) "
        "VALUES ('delete', old.id, old.heading, old.text); "
        "INSERT INTO knowledge_chunks_fts(rowid, heading, text) "
        "VALUES (new.id, new.heading, new.text); END"
    )
