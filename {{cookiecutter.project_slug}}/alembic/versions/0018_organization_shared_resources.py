"""workflows, knowledge bases, memories and MCP connections belong to an organisation

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02

Each row gets `organization_id`, filled from its creator's personal workspace, so a
single-user deployment sees exactly what it saw before. `owner_id` stays as the user
who created the row (and, for a memory, the user it is about). MCP connection names
become unique per organisation instead of per user.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("workflows", "workflow_runs", "knowledge_bases", "memories", "mcp_connections")
OWNER_UNIQUE = "uq_mcp_connections_owner_id_name"
ORGANIZATION_UNIQUE = "uq_mcp_connections_organization_id_name"
CONNECTION_NAME_LENGTH = 32


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("organization_id", sa.Uuid(), nullable=True))
        _fill_from_personal_workspaces(table)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("organization_id", existing_type=sa.Uuid(), nullable=False)
            batch_op.create_foreign_key(
                batch_op.f(f"fk_{table}_organization_id_organizations"),
                "organizations",
                ["organization_id"],
                ["id"],
                ondelete="CASCADE",
            )
            batch_op.create_index(
                batch_op.f(f"ix_{table}_organization_id"), ["organization_id"], unique=False
            )
            if table == "mcp_connections":
                batch_op.drop_constraint(OWNER_UNIQUE, type_="unique")
                batch_op.create_unique_constraint(ORGANIZATION_UNIQUE, ["organization_id", "name"])


def _fill_from_personal_workspaces(table: str) -> None:
    """Every row goes to its creator's personal workspace, as sign-up made one for each."""
    rows = sa.table(
        table, sa.column("owner_id", sa.Uuid()), sa.column("organization_id", sa.Uuid())
    )
    organizations = sa.table(
        "organizations", sa.column("id", sa.Uuid()), sa.column("personal_for_id", sa.Uuid())
    )
    personal = (
        sa.select(organizations.c.id)
        .where(organizations.c.personal_for_id == rows.c.owner_id)
        .scalar_subquery()
    )
    op.execute(rows.update().values(organization_id=personal))


def downgrade() -> None:
    _rename_connections_shared_by_an_owner()
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            if table == "mcp_connections":
                batch_op.drop_constraint(ORGANIZATION_UNIQUE, type_="unique")
                batch_op.create_unique_constraint(OWNER_UNIQUE, ["owner_id", "name"])
            batch_op.drop_index(batch_op.f(f"ix_{table}_organization_id"))
            batch_op.drop_constraint(
                batch_op.f(f"fk_{table}_organization_id_organizations"), type_="foreignkey"
            )
            batch_op.drop_column("organization_id")


def _rename_connections_shared_by_an_owner() -> None:
    """Names unique per organisation may repeat per creator: later ones get `-2`, `-3`..."""
    connection = op.get_bind()
    connections = sa.table(
        "mcp_connections",
        sa.column("id", sa.Uuid()),
        sa.column("owner_id", sa.Uuid()),
        sa.column("name", sa.String()),
        sa.column("created_at", sa.DateTime()),
    )
    found = connection.execute(
        sa.select(connections.c.id, connections.c.owner_id, connections.c.name).order_by(
            connections.c.owner_id, connections.c.created_at, connections.c.id
        )
    ).all()
    taken = {(row.owner_id, row.name) for row in found}
    seen: set[tuple[object, str]] = set()
    for row in found:
        if (row.owner_id, row.name) not in seen:
            seen.add((row.owner_id, row.name))
            continue
        number = 2
        while True:
            suffix = f"-{number}"
            renamed = row.name[: CONNECTION_NAME_LENGTH - len(suffix)] + suffix
            if (row.owner_id, renamed) not in taken:
                break
            number += 1
        taken.add((row.owner_id, renamed))
        connection.execute(
            connections.update().where(connections.c.id == row.id).values(name=renamed)
        )
