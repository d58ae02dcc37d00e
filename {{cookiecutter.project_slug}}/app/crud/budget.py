"""Budgets by scope: read, set (create or replace) and delete."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.scopes import BudgetScope, ScopeKind
from app.models import Budget


async def get(session: AsyncSession, *, scope: BudgetScope) -> Budget | None:
    """The scope's budget, or None when none is set."""
    statement = select(Budget).where(
        Budget.scope_kind == scope.kind.value, Budget.scope_id == scope.id
    )
    return (await session.scalars(statement)).first()


async def get_many(
    session: AsyncSession, *, scopes: Sequence[BudgetScope]
) -> dict[BudgetScope, Budget]:
    """The budgets set for any of `scopes`, in one query."""
    if not scopes:
        return {}
    statement = select(Budget).where(
        or_(
            *(
                (Budget.scope_kind == scope.kind.value) & (Budget.scope_id == scope.id)
                for scope in scopes
            )
        )
    )
    rows = (await session.scalars(statement)).all()
    return {BudgetScope(ScopeKind(row.scope_kind), row.scope_id): row for row in rows}


async def put(session: AsyncSession, *, scope: BudgetScope, limits: dict[str, Any]) -> Budget:
    """Set the scope's budget to `limits`, replacing any set before."""
    budget = await get(session, scope=scope)
    if budget is None:
        budget = Budget(scope_kind=scope.kind.value, scope_id=scope.id)
        session.add(budget)
    for name, value in limits.items():
        setattr(budget, name, value)
    await session.flush()
    return budget


async def delete(session: AsyncSession, *, budget: Budget) -> None:
    """Remove a budget: the scope falls back to the configured defaults."""
    await session.delete(budget)
    await session.flush()
