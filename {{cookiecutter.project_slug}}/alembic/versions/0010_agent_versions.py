"""add agent versions, the version each execution ran, and MCP connections

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-02

Every behaviour change to an agent is kept as an immutable version. Each existing agent
gets one version row: its settings as they are now, under its current version number.
Executions gain the version they ran, null for the runs recorded before this. Users'
MCP server connections get their own table.
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BEHAVIOUR_FIELDS: dict[str, Any] = {
    "max_tokens": sa.Integer(),
    "model": sa.String(),
    "provider": sa.String(),
    "system_prompt": sa.Text(),
    "temperature": sa.Float(),
    "tools": JSON,
}


def upgrade() -> None:
    versions = op.create_table(
        "agent_versions",
        sa.Column("agent_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("settings", JSON, nullable=False),
        sa.Column("rolled_back_from", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_agent_versions_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_versions")),
        sa.UniqueConstraint("agent_id", "version", name="uq_agent_versions_agent_id_version"),
    )
    with op.batch_alter_table("agent_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agent_versions_agent_id"), ["agent_id"], unique=False)
    with op.batch_alter_table("executions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("agent_version", sa.Integer(), nullable=True))
    _backfill(versions)
    _create_mcp_connections()


def _create_mcp_connections() -> None:
    op.create_table(
        "mcp_connections",
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column(
            "transport",
            sa.Enum("http", "stdio", name="mcptransport", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("command", JSON, nullable=False),
        sa.Column("headers_encrypted", sa.Text(), nullable=True),
        sa.Column("header_names", JSON, nullable=False),
        sa.Column("allowed_tools", JSON, nullable=False),
        sa.Column("approval_required", JSON, nullable=False),
        sa.Column("timeout_seconds", sa.Float(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_mcp_connections_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mcp_connections")),
        sa.UniqueConstraint("owner_id", "name", name="uq_mcp_connections_owner_id_name"),
    )
    with op.batch_alter_table("mcp_connections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mcp_connections_owner_id"), ["owner_id"], unique=False)


def _backfill(versions: sa.Table) -> None:
    """One version per existing agent: what it is now, under the number it has now."""
    agents = sa.table(
        "agents",
        sa.column("id", sa.Uuid()),
        sa.column("version", sa.Integer()),
        *(sa.column(name, kind) for name, kind in BEHAVIOUR_FIELDS.items()),
    )
    rows = op.get_bind().execute(sa.select(agents)).mappings().all()
    now = datetime.now(UTC)
    if rows:
        op.bulk_insert(
            versions,
            [
                {
                    "id": uuid.uuid4(),
                    "agent_id": row["id"],
                    "version": row["version"],
                    "settings": {name: row[name] for name in BEHAVIOUR_FIELDS},
                    "rolled_back_from": None,
                    "created_at": now,
                }
                for row in rows
            ],
        )


def downgrade() -> None:
    with op.batch_alter_table("mcp_connections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mcp_connections_owner_id"))
    op.drop_table("mcp_connections")
    with op.batch_alter_table("executions", schema=None) as batch_op:
        batch_op.drop_column("agent_version")
    with op.batch_alter_table("agent_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agent_versions_agent_id"))
    op.drop_table("agent_versions")
