"""Budgets: an organisation's, managed by its owners and admins; any scope's, by administrators.

A user's own budget is a deployment matter (administrators only): an organisation may
cap what its members spend together, not what one person spends elsewhere.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from app.ai.budgets import BudgetLedger, Metric, Period, ScopeLimits
from app.ai.budgets.periods import window
from app.api.access import Access, require_in_path
from app.api.audit import AuditDep
from app.api.deps import AdminUser, RunManagerDep, SessionDep, SettingsDep
from app.api.error_responses import ADMIN_ONLY
from app.core.config import Settings
from app.core.errors import NotFoundError
from app.core.scopes import BudgetScope, ScopeKind
from app.crud import budget as budget_crud
from app.crud import organization as organization_crud
from app.crud import user as user_crud
from app.schemas.budget import BudgetRead, BudgetSet, BudgetUsage

router = APIRouter(prefix="/budgets", tags=["budgets"])
organization_router = APIRouter(prefix="/organizations/{organization_id}/budget", tags=["budgets"])
ManagesBudget = Annotated[Access, require_in_path("budgets:manage")]


async def budget_read(
    session: AsyncSession, scope: BudgetScope, settings: Settings, ledger: BudgetLedger
) -> BudgetRead:
    """The scope's limits (its budget, or the defaults) with its use this day and month."""
    budget = await budget_crud.get(session, scope=scope)
    limits = (
        ScopeLimits.defaults(scope, settings) if budget is None else ScopeLimits.of(scope, budget)
    )
    used = await ledger.used(limits)
    now = ledger.clock()
    usage = [
        BudgetUsage(
            metric=metric.value,
            period=period.value,
            used=used[(metric, period)],
            limit=limits.limit(metric, period),
            resets_at=window(period, now).resets_at,
        )
        for period in Period
        for metric in Metric
    ]
    return BudgetRead(
        scope_kind=scope.kind,
        scope_id=scope.id,
        daily_tokens=limits.tokens[Period.DAY],
        monthly_tokens=limits.tokens[Period.MONTH],
        daily_cost=limits.cost[Period.DAY],
        monthly_cost=limits.cost[Period.MONTH],
        concurrent_runs=limits.concurrent_runs,
        is_default=budget is None,
        usage=usage,
    )


async def _scope(session: AsyncSession, kind: ScopeKind, scope_id: uuid.UUID) -> BudgetScope:
    """The scope named by the path, which must name an existing user or organisation."""
    if kind is ScopeKind.USER and await user_crud.get(session, user_id=scope_id) is None:
        raise NotFoundError("User not found")
    if (
        kind is ScopeKind.ORGANIZATION
        and await organization_crud.get(session, organization_id=scope_id) is None
    ):
        raise NotFoundError("Organization not found")
    return BudgetScope(kind, scope_id)


async def _remove(session: AsyncSession, scope: BudgetScope) -> Response:
    """Delete the scope's budget, so the configured defaults apply again."""
    budget = await budget_crud.get(session, scope=scope)
    if budget is None:
        raise NotFoundError("No budget is set for this scope")
    await budget_crud.delete(session, budget=budget)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{scope_kind}/{scope_id}", response_model=BudgetRead, responses=ADMIN_ONLY)
async def read_budget(
    scope_kind: ScopeKind,
    scope_id: uuid.UUID,
    _admin: AdminUser,
    session: SessionDep,
    settings: SettingsDep,
    runs: RunManagerDep,
) -> BudgetRead:
    """A user's or organisation's budget (or the defaults that apply) and its use so far."""
    scope = await _scope(session, scope_kind, scope_id)
    return await budget_read(session, scope, settings, runs.ledger)


@router.put("/{scope_kind}/{scope_id}", response_model=BudgetRead, responses=ADMIN_ONLY)
async def set_budget(
    scope_kind: ScopeKind,
    scope_id: uuid.UUID,
    payload: BudgetSet,
    _admin: AdminUser,
    session: SessionDep,
    settings: SettingsDep,
    runs: RunManagerDep,
) -> BudgetRead:
    """Set every limit of the scope's budget at once; a limit left out is not enforced."""
    scope = await _scope(session, scope_kind, scope_id)
    await budget_crud.put(session, scope=scope, limits=payload.model_dump())
    return await budget_read(session, scope, settings, runs.ledger)


@router.delete(
    "/{scope_kind}/{scope_id}", status_code=status.HTTP_204_NO_CONTENT, responses=ADMIN_ONLY
)
async def delete_budget(
    scope_kind: ScopeKind, scope_id: uuid.UUID, _admin: AdminUser, session: SessionDep
) -> Response:
    """Remove the scope's budget: the configured defaults apply again."""
    return await _remove(session, await _scope(session, scope_kind, scope_id))


@organization_router.get("", response_model=BudgetRead)
async def read_organization_budget(
    access: ManagesBudget, session: SessionDep, settings: SettingsDep, runs: RunManagerDep
) -> BudgetRead:
    """The organisation's budget (or no limits, where none is set) and its use so far."""
    scope = BudgetScope(ScopeKind.ORGANIZATION, access.organization_id)
    return await budget_read(session, scope, settings, runs.ledger)


@organization_router.put("", response_model=BudgetRead)
async def set_organization_budget(
    access: ManagesBudget,
    payload: BudgetSet,
    session: SessionDep,
    settings: SettingsDep,
    runs: RunManagerDep,
    audit: AuditDep,
) -> BudgetRead:
    """Set every limit the members' runs share at once; a limit left out is not enforced."""
    scope = BudgetScope(ScopeKind.ORGANIZATION, access.organization_id)
    limits = payload.model_dump(mode="json")
    await budget_crud.put(session, scope=scope, limits=payload.model_dump())
    await audit.record(
        session,
        "budget.set",
        organization_id=access.organization_id,
        actor_id=access.user_id,
        target_type="organization",
        target_id=access.organization_id,
        details=limits,
    )
    return await budget_read(session, scope, settings, runs.ledger)


@organization_router.delete("", status_code=status.HTTP_204_NO_CONTENT)
async def delete_organization_budget(
    access: ManagesBudget, session: SessionDep, audit: AuditDep
) -> Response:
    """Remove the organisation's budget: its members' runs share no limit again."""
    scope = BudgetScope(ScopeKind.ORGANIZATION, access.organization_id)
    response = await _remove(session, scope)
    await audit.record(
        session,
        "budget.removed",
        organization_id=access.organization_id,
        actor_id=access.user_id,
        target_type="organization",
        target_id=access.organization_id,
    )
    return response
