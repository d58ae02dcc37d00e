"""Liveness and readiness probes, outside the versioned API."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Literal

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field
from sqlalchemy import text

from app.api.deps import DatabaseDep, ProvidersDep, StoreDep
from app.db.session import Database

router = APIRouter(tags=["health"])

# A probe that waits on a hung dependency is worse than one that says "not ready".
CHECK_TIMEOUT_SECONDS = 3.0


class Liveness(BaseModel):
    """The process answers."""

    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    """Each dependency's state, and whether traffic may be sent here."""

    status: Literal["ok", "unavailable"]
    checks: dict[str, bool]
    providers: list[str] = Field(description="Providers configured for agents to use")


@router.get("/health", response_model=Liveness)
async def liveness() -> Liveness:
    """The process is up and serving; nothing external is checked."""
    return Liveness()


@router.get("/health/ready", response_model=Readiness)
async def readiness(
    database: DatabaseDep, store: StoreDep, providers: ProvidersDep, response: Response
) -> Readiness:
    """Ready when the database and the store answer; 503 otherwise, so load balancers wait."""
    database_ok, store_ok = await asyncio.gather(
        _passes(_database_answers(database)), _passes(store.ping())
    )
    checks = {"database": database_ok, "store": store_ok}
    ready = all(checks.values())
    if not ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Readiness(
        status="ok" if ready else "unavailable",
        checks=checks,
        providers=providers.available(),
    )


async def _passes(check: Awaitable[bool]) -> bool:
    """A check that fails, raises or overruns its time counts as down."""
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            return await check
    except Exception:
        return False


async def _database_answers(database: Database) -> bool:
    async with database.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    return True
