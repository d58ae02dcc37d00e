"""add long-term memories and agents' links to knowledge bases

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

Memories keep their embedding beside them (pgvector's `vector` on PostgreSQL, a float32
BLOB on SQLite); recall scans one user's and agent's memories, so no vector index is
needed. An agent's knowledge bases are rows of a link table that deleting either side
clears.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


class _Vector(sa.types.UserDefinedType[Any]):
    """pgvector's column type, named without importing pgvector."""

    cache_ok = True

    def get_col_spec(self, **_kw: Any) -> str:
        return "VECTOR"


def upgrade() -> None:
    op.create_table(
        "agent_knowledge_bases",
        sa.Column("agent_id", sa.Uuid(), nullable=False),
        sa.Column("base_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_agent_knowledge_bases_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["base_id"],
            ["knowledge_bases.id"],
            name=op.f("fk_agent_knowledge_bases_base_id_knowledge_bases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("agent_id", "base_id", name=op.f("pk_agent_knowledge_bases")),
    )
    with op.batch_alter_table("agent_knowledge_bases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agent_knowledge_bases_base_id"), ["base_id"])

    op.create_table(
        "memories",
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("embedding_model", sa.String(length=200), nullable=False),
        sa.Column("dimension", sa.Integer(), nullable=False),
        sa.Column(
            "embedding", sa.LargeBinary().with_variant(_Vector(), "postgresql"), nullable=False
        ),
        sa.Column("recalled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_memories_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_memories_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memories")),
    )
    with op.batch_alter_table("memories", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_memories_agent_id"), ["agent_id"])
        batch_op.create_index("ix_memories_owner_id_agent_id", ["owner_id", "agent_id"])


def downgrade() -> None:
    with op.batch_alter_table("memories", schema=None) as batch_op:
        batch_op.drop_index("ix_memories_owner_id_agent_id")
        batch_op.drop_index(batch_op.f("ix_memories_agent_id"))
    op.drop_table("memories")
    with op.batch_alter_table("agent_knowledge_bases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agent_knowledge_bases_base_id"))
    op.drop_table("agent_knowledge_bases")
