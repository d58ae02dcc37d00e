"""mark assistant replies that were cut short

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

A reply interrupted by a dropped stream, a cancel or a crash keeps the text streamed so
far; `incomplete` tells it from a finished answer.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("incomplete", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("incomplete")
