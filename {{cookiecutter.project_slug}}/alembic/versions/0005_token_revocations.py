"""a durable ledger of token revocations, so they survive a Redis restart

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

The key-value store answers revocation checks; these rows refill it when Redis
restarts or is flushed without persistence.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "token_revocations",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_token_revocations")),
    )
    op.create_index(
        op.f("ix_token_revocations_expires_at"), "token_revocations", ["expires_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_token_revocations_expires_at"), table_name="token_revocations")
    op.drop_table("token_revocations")
