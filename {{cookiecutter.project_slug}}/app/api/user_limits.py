"""Limits on the routes that cost money or compute: runs, chat completions, tools, uploads.

Each request counts against every scope it belongs to (the user's own, and the
organisation it acts in): a rate per scope (a moving window, shared through
Redis when it is configured, like the auth throttle), a cap on runs in progress, counted
from the executions table so every worker and replica sees the same number, and the
scope's budgets, whose spent ones refuse a run before it starts.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Request, status
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.ai.budgets import BudgetLedger, BudgetScope, Exhaustion, ScopeKind, limits_for, scopes_for
from app.api.access import Access, get_access
from app.core.config import Settings
from app.core.errors import AppError
from app.core.rate_limit import RateLimiter
from app.crud import execution as execution_crud
from app.models import Execution

# A run usually ends within seconds; a client told to wait this long may try again.
BUSY_RETRY_SECONDS = 5


class TooManyRunsError(AppError):
    """The scope already has as many runs in progress as allowed."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS

    def __init__(self, limit: int, scope: BudgetScope) -> None:
        whose = "You already have" if scope.kind is ScopeKind.USER else "Your organization has"
        super().__init__(
            f"{whose} {limit} runs in progress; wait for one to finish",
            headers={"Retry-After": str(BUSY_RETRY_SECONDS)},
        )


class BudgetExhaustedError(AppError):
    """A budget of the caller's is spent: 402 until it resets, with what it was and when."""

    status_code = status.HTTP_402_PAYMENT_REQUIRED

    def __init__(self, exhaustion: Exhaustion, retry_after: int) -> None:
        super().__init__(
            exhaustion.message,
            headers={"Retry-After": str(retry_after)},
            extra={"budget": exhaustion.body()},
        )


class Action(StrEnum):
    """The rate-limited kinds of request."""

    RUNS = "runs"
    TOOLS = "tools"
    UPLOADS = "uploads"


class UserLimits:
    """Rate limiters per action and scope kind, on the storage the auth throttle already uses."""

    def __init__(self, shared: RateLimiter, settings: Settings) -> None:
        """`shared` gives the storage; closing it stays the auth throttle's job."""
        rates = {
            (Action.RUNS, ScopeKind.USER): settings.user_run_rate_limit,
            (Action.TOOLS, ScopeKind.USER): settings.user_tool_rate_limit,
            (Action.UPLOADS, ScopeKind.USER): settings.user_upload_rate_limit,
            (Action.RUNS, ScopeKind.ORGANIZATION): settings.organization_run_rate_limit,
            (Action.TOOLS, ScopeKind.ORGANIZATION): settings.organization_tool_rate_limit,
            (Action.UPLOADS, ScopeKind.ORGANIZATION): settings.organization_upload_rate_limit,
        }
        self._limiters = {key: RateLimiter(shared.storage, rate) for key, rate in rates.items()}

    async def hit(self, action: Action, scopes: Sequence[BudgetScope]) -> None:
        """Count one request against each scope; the first over its rate raises a 429."""
        for scope in scopes:
            limiter = self._limiters[(action, scope.kind)]
            key = f"{action.value}:{scope.id}"
            await limiter.hit(key if scope.kind is ScopeKind.USER else f"{scope.label}:{key}")


def _limits(request: Request) -> UserLimits:
    limits: UserLimits = request.app.state.user_limits
    return limits


# The caller and the organisation they act in; FastAPI resolves it once per request, so
# a route that also declares a permission checks the membership only once.
ActingIn = Annotated[Access, Depends(get_access)]


async def limit_run_rate(request: Request, access: ActingIn) -> None:
    """Refuse a run request over a scope's rate; a repeat with an Idempotency-Key counts too."""
    scopes = scopes_for(access.user_id, access.organization_id)
    await _limits(request).hit(Action.RUNS, scopes)


async def limit_tool_calls(request: Request, access: ActingIn) -> None:
    """Refuse a direct tool call over a scope's rate."""
    scopes = scopes_for(access.user_id, access.organization_id)
    await _limits(request).hit(Action.TOOLS, scopes)


async def limit_uploads(request: Request, access: ActingIn) -> None:
    """Refuse a document upload over a scope's rate."""
    scopes = scopes_for(access.user_id, access.organization_id)
    await _limits(request).hit(Action.UPLOADS, scopes)


RunCounter = Callable[[AsyncSession, uuid.UUID], Awaitable[int]]


async def _user_runs(session: AsyncSession, user_id: uuid.UUID) -> int:
    return await execution_crud.count_unfinished(session, owner_id=user_id)


async def _organization_runs(session: AsyncSession, organization_id: uuid.UUID) -> int:
    """Runs pending or running in the organisation, whichever member started them."""
    statement = (
        select(func.count())
        .select_from(Execution)
        .where(
            Execution.organization_id == organization_id,
            Execution.status.in_(execution_crud.UNFINISHED),
        )
    )
    return int(await session.scalar(statement) or 0)


# How runs in progress are counted for each kind of scope; a kind without a counter has
# no cap on runs in progress.
RUN_COUNTERS: dict[ScopeKind, RunCounter] = {
    ScopeKind.USER: _user_runs,
    ScopeKind.ORGANIZATION: _organization_runs,
}


async def check_run_capacity(
    session: AsyncSession,
    *,
    owner_id: uuid.UUID,
    settings: Settings,
    ledger: BudgetLedger,
    organization_id: uuid.UUID,
) -> None:
    """Refuse a new run beyond a scope's runs in progress, or with one of its budgets spent.

    Checked only when a run is about to start: a repeated request answered with the run
    its key started adds none, so it is not refused for the runs already going. A user's
    cap is MAX_CONCURRENT_RUNS_PER_USER, or their budget's `concurrent_runs` if lower; the
    organisation the run acts in is capped by ORGANIZATION_MAX_CONCURRENT_RUNS and its
    budget's `concurrent_runs` alike.
    """
    scopes = scopes_for(owner_id, organization_id)
    limits = await limits_for(session, scopes, settings)
    for scope_limits in limits:
        scope = scope_limits.scope
        caps = [scope_limits.concurrent_runs]
        if scope.kind is ScopeKind.USER:
            caps.append(settings.max_concurrent_runs_per_user)
        else:
            caps.append(settings.organization_max_concurrent_runs)
        cap = min((c for c in caps if c is not None), default=None)
        counter = RUN_COUNTERS.get(scope.kind)
        if cap is not None and counter is not None and await counter(session, scope.id) >= cap:
            raise TooManyRunsError(cap, scope)
    exhausted = await ledger.exhausted(limits)
    if exhausted is not None:
        wait = exhausted.resets_at - ledger.clock()
        raise BudgetExhaustedError(exhausted, max(1, int(wait.total_seconds()) + 1))


# The rates only: caps and budgets are `check_run_capacity`, once a run will start.
RunRateLimit = Annotated[None, Depends(limit_run_rate)]
ToolCallLimit = Annotated[None, Depends(limit_tool_calls)]
UploadLimit = Annotated[None, Depends(limit_uploads)]
