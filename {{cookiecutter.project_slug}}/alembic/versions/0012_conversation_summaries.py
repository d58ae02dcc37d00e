"""keep a summary of the turns too old to resend on each conversation

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

When a conversation outgrows the model's history budget, its older turns are summarised
once; `summary_through` is the sequence number of the last message the summary covers.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("summary", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("summary_through", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("summary_through")
        batch_op.drop_column("summary")
