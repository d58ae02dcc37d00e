"""Usage: runs, tokens and cost by day, agent and model, with the budgets they count against.

`GET /usage` is the caller's own, in every organisation; `GET /usage/organization` is
the active organisation's, all members together, for those who may see what it spends.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.ai.budgets import BudgetLedger
from app.api.access import Access, require
from app.api.deps import CurrentUser, RunManagerDep, SessionDep, SettingsDep
from app.api.v1.endpoints.budgets import budget_read
from app.core.config import Settings
from app.core.scopes import BudgetScope, ScopeKind
from app.crud import usage as usage_crud
from app.schemas.usage import UsageReport, UsageRow, UsageTotals

router = APIRouter(tags=["usage"])

# The range reported when none is asked for: the last 30 days, today included.
DEFAULT_DAYS = 30


def _range_error(message: str) -> RequestValidationError:
    return RequestValidationError(
        [{"type": "value_error", "loc": ("query", "end"), "msg": message}]
    )


StartDay = Annotated[dt.date | None, Query(description="First UTC day (default: 30 days ago)")]
EndDay = Annotated[dt.date | None, Query(description="Last UTC day, included (default: today)")]


def _days(
    settings: Settings, start: dt.date | None, end: dt.date | None
) -> tuple[dt.date, dt.date]:
    """The range asked for, or the last DEFAULT_DAYS; 422 for one reversed or too long."""
    end = end or dt.datetime.now(dt.UTC).date()
    start = start or end - dt.timedelta(days=DEFAULT_DAYS - 1)
    if end < start:
        raise _range_error("end must not be before start")
    if (end - start).days + 1 > settings.usage_report_max_days:
        raise _range_error(f"The range may cover at most {settings.usage_report_max_days} days")
    return start, end


async def _report(
    session: AsyncSession,
    settings: Settings,
    ledger: BudgetLedger,
    days: tuple[dt.date, dt.date],
    scope: BudgetScope,
) -> UsageReport:
    """The scope's runs per day, agent and model over `days`, with its budget's use so far."""
    start, end = days
    whose: dict[str, uuid.UUID] = (
        {"owner_id": scope.id} if scope.kind is ScopeKind.USER else {"organization_id": scope.id}
    )
    lines = await usage_crud.by_day_agent_model(session, start=start, end=end, **whose)
    items = [UsageRow.model_validate(line, from_attributes=True) for line in lines]
    totals = UsageTotals(
        runs=sum(item.runs for item in items),
        input_tokens=sum(item.input_tokens for item in items),
        output_tokens=sum(item.output_tokens for item in items),
        cost=sum((item.cost for item in items), UsageTotals().cost),
    )
    budgets = [await budget_read(session, scope, settings, ledger)]
    return UsageReport(start=start, end=end, items=items, totals=totals, budgets=budgets)


@router.get("/usage", response_model=UsageReport)
async def read_usage(
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    runs: RunManagerDep,
    start: StartDay = None,
    end: EndDay = None,
) -> UsageReport:
    """Your runs, tokens and cost per UTC day, agent and model, with your budget's use so far."""
    scope = BudgetScope(ScopeKind.USER, user.id)
    return await _report(session, settings, runs.ledger, _days(settings, start, end), scope)


@router.get("/usage/organization", response_model=UsageReport)
async def read_organization_usage(
    access: Annotated[Access, require("usage:read")],
    session: SessionDep,
    settings: SettingsDep,
    runs: RunManagerDep,
    start: StartDay = None,
    end: EndDay = None,
) -> UsageReport:
    """The active organisation's runs, tokens and cost per UTC day, agent and model, with its budget."""
    scope = BudgetScope(ScopeKind.ORGANIZATION, access.organization_id)
    return await _report(session, settings, runs.ledger, _days(settings, start, end), scope)
