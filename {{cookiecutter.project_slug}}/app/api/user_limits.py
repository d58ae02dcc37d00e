"""Per-user limits on the routes that cost money or compute: runs, chat completions, tools.

Each user has a rate (a moving window, shared through Redis when it is configured, like
the auth throttle) and a cap on runs in progress at once, counted from the executions
table, so every worker and replica sees the same number.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request, status
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.deps import CurrentUser
from app.core.config import Settings
from app.core.errors import AppError
from app.core.rate_limit import RateLimiter
from app.crud import execution as execution_crud

# A run usually ends within seconds; a client told to wait this long may try again.
BUSY_RETRY_SECONDS = 5


class TooManyRunsError(AppError):
    """The user already has as many runs in progress as allowed."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"You already have {limit} runs in progress; wait for one to finish",
            headers={"Retry-After": str(BUSY_RETRY_SECONDS)},
        )


class UserLimits:
    """The per-user rate limiters, on the storage the auth throttle already uses."""

    def __init__(self, shared: RateLimiter, settings: Settings) -> None:
        """`shared` gives the storage; closing it stays the auth throttle's job."""
        self.runs = RateLimiter(shared.storage, settings.user_run_rate_limit)
        self.tools = RateLimiter(shared.storage, settings.user_tool_rate_limit)


def _limits(request: Request) -> UserLimits:
    limits: UserLimits = request.app.state.user_limits
    return limits


async def limit_run_rate(request: Request, user: CurrentUser) -> None:
    """Refuse a run request over the user's rate; a repeat with an Idempotency-Key counts too."""
    await _limits(request).runs.hit(f"runs:{user.id}")


async def check_run_capacity(
    session: AsyncSession, *, owner_id: uuid.UUID, settings: Settings
) -> None:
    """Refuse a new run beyond the user's runs in progress.

    Checked only when a run is about to start: a repeated request answered with the run
    its key started adds none, so it is not refused for the runs already going.
    """
    running = await execution_crud.count_unfinished(session, owner_id=owner_id)
    if running >= settings.max_concurrent_runs_per_user:
        raise TooManyRunsError(settings.max_concurrent_runs_per_user)


async def limit_tool_calls(request: Request, user: CurrentUser) -> None:
    """Refuse a direct tool call over the user's rate."""
    await _limits(request).tools.hit(f"tools:{user.id}")


# The rate only: the cap on runs in progress is `check_run_capacity`, once a run will start.
RunRateLimit = Annotated[None, Depends(limit_run_rate)]
ToolCallLimit = Annotated[None, Depends(limit_tool_calls)]
