"""Liveness and readiness probes, outside the versioned API."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response, status
from pydantic import BaseModel
from sqlalchemy import text

from app.api.deps import DatabaseDep, StoreDep

router = APIRouter(tags=["health"])


class Liveness(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, bool]


@router.get("/health", response_model=Liveness)
async def liveness() -> Liveness:
    """The process is up and serving; nothing external is checked."""
    return Liveness()


@router.get("/health/ready", response_model=Readiness)
async def readiness(database: DatabaseDep, store: StoreDep, response: Response) -> Readiness:
    """Ready when the database and the store answer; 503 otherwise, so load balancers wait."""
    checks = {"database": await _database_answers(database), "store": await store.ping()}
    ready = all(checks.values())
    if not ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Readiness(status="ok" if ready else "unavailable", checks=checks)


async def _database_answers(database: DatabaseDep) -> bool:
    try:
        async with database.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:
        return False
    return True
