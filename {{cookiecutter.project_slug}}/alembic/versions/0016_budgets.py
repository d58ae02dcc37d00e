"""add budgets: spending limits per user or organisation

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02

One row per scope (a kind and an id, with no foreign key): tokens and cost per day and
per month, and runs in progress at once; a null limit is not enforced.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "budgets",
        sa.Column("scope_kind", sa.String(length=20), nullable=False),
        sa.Column("scope_id", sa.Uuid(), nullable=False),
        sa.Column("daily_tokens", sa.BigInteger(), nullable=True),
        sa.Column("monthly_tokens", sa.BigInteger(), nullable=True),
        sa.Column("daily_cost", sa.Numeric(precision=14, scale=6), nullable=True),
        sa.Column("monthly_cost", sa.Numeric(precision=14, scale=6), nullable=True),
        sa.Column("concurrent_runs", sa.Integer(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budgets")),
        sa.UniqueConstraint("scope_kind", "scope_id", name=op.f("uq_budgets_scope_kind")),
    )


def downgrade() -> None:
    op.drop_table("budgets")
