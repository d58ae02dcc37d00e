"""Budgets: spending limits of one user or organisation, by day and by month."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import BigInteger, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, IdMixin, TimestampMixin


class Budget(IdMixin, TimestampMixin, Base):
    """Limits for one scope; a limit left null is not enforced.

    The scope is a kind (`user`, `organization`) and an id with no foreign key, so the
    table serves any owner a budget can have. Costs are in the price table's currency.
    """

    __tablename__ = "budgets"
    __table_args__ = (UniqueConstraint("scope_kind", "scope_id"),)

    scope_kind: Mapped[str] = mapped_column(String(20))
    scope_id: Mapped[uuid.UUID] = mapped_column()
    daily_tokens: Mapped[int | None] = mapped_column(BigInteger)
    monthly_tokens: Mapped[int | None] = mapped_column(BigInteger)
    daily_cost: Mapped[Decimal | None] = mapped_column(Numeric(14, 6, asdecimal=True))
    monthly_cost: Mapped[Decimal | None] = mapped_column(Numeric(14, 6, asdecimal=True))
    concurrent_runs: Mapped[int | None] = mapped_column(Integer)
