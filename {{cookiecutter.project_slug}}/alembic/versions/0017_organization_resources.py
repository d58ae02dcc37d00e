"""agents, conversations and executions belong to an organisation; agent names are unique in it

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02

Each existing row goes to its creator's personal workspace, so nothing changes for anyone
until they share. `owner_id` stays: it names the user who created the row.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("agents", "conversations", "executions")
NAME_LENGTH = 100


def upgrade() -> None:
    for name in TABLES:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.add_column(sa.Column("organization_id", sa.Uuid(), nullable=True))
        _move_to_personal_workspaces(name)
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.alter_column("organization_id", existing_type=sa.Uuid(), nullable=False)
            batch_op.create_foreign_key(
                batch_op.f(f"fk_{name}_organization_id_organizations"),
                "organizations",
                ["organization_id"],
                ["id"],
                ondelete="CASCADE",
            )
            batch_op.create_index(
                batch_op.f(f"ix_{name}_organization_id"), ["organization_id"], unique=False
            )
            if name == "agents":
                batch_op.drop_constraint("uq_agents_owner_id_name", type_="unique")
                batch_op.create_unique_constraint(
                    "uq_agents_organization_id_name", ["organization_id", "name"]
                )


def _move_to_personal_workspaces(name: str) -> None:
    """Every row of the table into the personal workspace of the user who created it."""
    rows = sa.table(name, sa.column("owner_id", sa.Uuid()), sa.column("organization_id", sa.Uuid()))
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
    _rename_names_shared_by_one_creator()
    for name in reversed(TABLES):
        with op.batch_alter_table(name, schema=None) as batch_op:
            if name == "agents":
                batch_op.drop_constraint("uq_agents_organization_id_name", type_="unique")
                batch_op.create_unique_constraint("uq_agents_owner_id_name", ["owner_id", "name"])
            batch_op.drop_index(batch_op.f(f"ix_{name}_organization_id"))
            batch_op.drop_constraint(
                batch_op.f(f"fk_{name}_organization_id_organizations"), type_="foreignkey"
            )
            batch_op.drop_column("organization_id")


def _rename_names_shared_by_one_creator() -> None:
    """Names were unique per creator before: a later agent of the same name gets a suffix."""
    connection = op.get_bind()
    agents = sa.table(
        "agents",
        sa.column("id", sa.Uuid()),
        sa.column("owner_id", sa.Uuid()),
        sa.column("name", sa.String()),
        sa.column("created_at", sa.DateTime()),
    )
    rows = connection.execute(
        sa.select(agents.c.id, agents.c.owner_id, agents.c.name).order_by(
            agents.c.owner_id, agents.c.created_at, agents.c.id
        )
    ).all()
    taken = {(row.owner_id, row.name) for row in rows}
    seen: set[tuple[object, str]] = set()
    for row in rows:
        if (row.owner_id, row.name) not in seen:
            seen.add((row.owner_id, row.name))
            continue
        number = 2
        while (row.owner_id, renamed := _numbered(row.name, number)) in taken:
            number += 1
        taken.add((row.owner_id, renamed))
        connection.execute(agents.update().where(agents.c.id == row.id).values(name=renamed))


def _numbered(name: str, number: int) -> str:
    suffix = f" ({number})"
    return name[: NAME_LENGTH - len(suffix)] + suffix
