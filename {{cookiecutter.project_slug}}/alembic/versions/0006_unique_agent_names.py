"""make agent names unique per owner

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

`model` in /v1/chat/completions may name an agent, so a name must pick one. Existing
duplicates keep the oldest agent's name; each later one gets a numbered suffix, e.g.
"Helper (2)", before the constraint is added.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME_LENGTH = 100


def upgrade() -> None:
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
    taken: set[tuple[object, str]] = {(row.owner_id, row.name) for row in rows}
    seen: set[tuple[object, str]] = set()
    for row in rows:
        key = (row.owner_id, row.name)
        if key not in seen:
            seen.add(key)
            continue
        number = 2
        while True:
            suffix = f" ({number})"
            renamed = row.name[: NAME_LENGTH - len(suffix)] + suffix
            if (row.owner_id, renamed) not in taken:
                break
            number += 1
        taken.add((row.owner_id, renamed))
        connection.execute(agents.update().where(agents.c.id == row.id).values(name=renamed))
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_agents_owner_id_name", ["owner_id", "name"])


def downgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_constraint("uq_agents_owner_id_name", type_="unique")
