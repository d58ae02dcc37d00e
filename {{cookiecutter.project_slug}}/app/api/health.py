"""Liveness and readiness probes, outside the versioned API.

Readiness reports each component: the database{% if cookiecutter.use_redis %}, Redis when REDIS_URL is set{% endif %}, each
configured provider and the runs. The required ones (the database{% if cookiecutter.use_redis %} and Redis{% endif %}) decide
the answer: 200 while they are ok, 503 with Retry-After otherwise, so a load balancer
sends traffic elsewhere. Providers and runs only inform: a vendor that failed its last
check, or a worker at its run limit, is `degraded` while everything else still works.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status
from sqlalchemy import text

from app.ai.providers.factory import ProviderFactory
from app.ai.runs import RunManager
{%- if cookiecutter.use_redis %}
from app.api.deps import DatabaseDep, ProvidersDep, SettingsDep, StoreDep
{%- else %}
from app.api.deps import DatabaseDep, ProvidersDep
{%- endif %}
from app.core.errors import OUTAGE_RETRY_AFTER_SECONDS, NotFoundError
{%- if cookiecutter.use_redis %}
from app.core.store import KeyValueStore
{%- endif %}
from app.core.waiting import error_class
from app.db.session import Database
from app.schemas.common import ErrorBody
from app.schemas.health import (
    ComponentHealth,
    ComponentKind,
    ComponentStatus,
    Liveness,
    Readiness,
)

router = APIRouter(tags=["health"])

# A probe that waits on a hung dependency is worse than one that says "not ready".
CHECK_TIMEOUT_SECONDS = 3.0

_RETRY_AFTER_HEADER = {
    "Retry-After": {
        "description": "Seconds to wait before asking again",
        "schema": {"type": "string"},
    }
}
NOT_READY: dict[int | str, dict[str, Any]] = {
    status.HTTP_503_SERVICE_UNAVAILABLE: {
        "model": Readiness,
        "description": "A required component is not ok; the body says which",
        "headers": _RETRY_AFTER_HEADER,
    }
}
COMPONENT_DOWN: dict[int | str, dict[str, Any]] = {
    status.HTTP_404_NOT_FOUND: {
        "model": ErrorBody,
        "description": "No component by that name; the detail lists the known ones",
    },
    status.HTTP_503_SERVICE_UNAVAILABLE: {
        "model": ComponentHealth,
        "description": "The component is down",
        "headers": _RETRY_AFTER_HEADER,
    },
}


@dataclass(frozen=True, slots=True)
class Finding:
    """What one check found, before it is timed and named."""

    status: ComponentStatus
    detail: str
    counts: dict[str, int] = field(default_factory=dict)


Check = Callable[[], Awaitable[ComponentHealth]]


def runs_health(request: Request) -> Finding:
    """What the run engine knows of its load: the one place readiness reads it.

    Today that is the runs in flight in this process against MAX_CONCURRENT_RUNS; at the
    limit new runs are refused with 503, so the runs are `degraded`, never down. A run
    engine that moves to a durable queue replaces this function and nothing else here.
    """
    runs: RunManager = request.app.state.runs
    limit: int = request.app.state.settings.max_concurrent_runs
    in_flight = runs.in_flight
    state: ComponentStatus = "degraded" if in_flight >= limit else "ok"
    detail = f"{in_flight} of at most {limit} runs in flight in this process"
    return Finding(state, detail, {"in_flight": in_flight, "limit": limit})


def component_checks(
    request: Request,
    database: DatabaseDep,
    providers: ProvidersDep,
{%- if cookiecutter.use_redis %}
    store: StoreDep,
    settings: SettingsDep,
{%- endif %}
) -> dict[str, Check]:
    """Every component's check by name, in the order readiness lists them."""
    checks: dict[str, Check] = {
        "database": partial(_measured, "database", "database", _database_answers(database)),
    }
{%- if cookiecutter.use_redis %}
    if settings.redis_url:
        checks["redis"] = partial(_measured, "redis", "redis", _store_answers(store))
{%- endif %}
    for name in providers.available():
        checks[name] = partial(_provider_health, providers, name)
    checks["runs"] = partial(_measured, "runs", "runs", _at_once(partial(runs_health, request)))
    return checks


ChecksDep = Annotated[dict[str, Check], Depends(component_checks)]


@router.get("/health", response_model=Liveness)
async def liveness() -> Liveness:
    """The process is up and serving; nothing external is checked."""
    return Liveness()


@router.get("/health/ready", response_model=Readiness, responses=NOT_READY)
async def readiness(checks: ChecksDep, providers: ProvidersDep, response: Response) -> Readiness:
    """Every component's state; 503 while a required one is not ok, so load balancers wait."""
    found = await asyncio.gather(*(check() for check in checks.values()))
    components = {component.name: component for component in found}
    ready = all(component.status == "ok" for component in found if component.required)
    if not ready:
        _not_ready(response)
    store = components.get("redis")
    return Readiness(
        status="ok" if ready else "unavailable",
        checks={
            "database": components["database"].status == "ok",
            "store": store is None or store.status == "ok",
        },
        providers=providers.available(),
        components=components,
    )


@router.get("/health/ready/{service}", response_model=ComponentHealth, responses=COMPONENT_DOWN)
async def component_readiness(
    service: str, checks: ChecksDep, response: Response
) -> ComponentHealth:
    """One component's state, checked alone; 503 while it is down."""
    check = checks.get(service)
    if check is None:
        raise NotFoundError(f"No component named {service[:100]!r}; known: {', '.join(checks)}")
    component = await check()
    if component.status == "down":
        _not_ready(response)
    return component


def _not_ready(response: Response) -> None:
    response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    response.headers["Retry-After"] = str(OUTAGE_RETRY_AFTER_SECONDS)


async def _measured(
    name: str, kind: ComponentKind, probe: Callable[[], Awaitable[Finding]]
) -> ComponentHealth:
    """Run one live check under the time limit; failing, raising or overrunning is down."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            finding = await probe()
    except TimeoutError:
        finding = Finding("down", f"no answer within {CHECK_TIMEOUT_SECONDS:g} s")
    except Exception as exc:
        finding = Finding("down", f"unreachable ({error_class(exc)})")
    return ComponentHealth(
        name=name,
        kind=kind,
        status=finding.status,
        required=kind in ("database", "redis"),
        latency_ms=round((time.perf_counter() - started) * 1000, 2),
        checked_at=datetime.now(UTC),
        detail=finding.detail,
        counts=finding.counts,
    )


def _database_answers(database: Database) -> Callable[[], Awaitable[Finding]]:
    async def probe() -> Finding:
        async with database.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return Finding("ok", "answered SELECT 1")

    return probe
{%- if cookiecutter.use_redis %}


def _store_answers(store: KeyValueStore) -> Callable[[], Awaitable[Finding]]:
    async def probe() -> Finding:
        if await store.ping():
            return Finding("ok", "answered PING")
        return Finding("down", "did not answer PING")

    return probe
{%- endif %}


def _at_once(read: Callable[[], Finding]) -> Callable[[], Awaitable[Finding]]:
    async def probe() -> Finding:
        return read()

    return probe


async def _provider_health(providers: ProviderFactory, name: str) -> ComponentHealth:
    """From its settings and the last background check: a probe never calls the vendor."""
    reachability = providers.reachability
    found = Finding("ok", "configured; runs in this process, nothing to reach")
    latency_ms: float | None = None
    checked_at: datetime | None = None
    if reachability.reaches(name) and not reachability.enabled:
        found = Finding("ok", "configured; checks are off (PROVIDER_CHECK_INTERVAL_SECONDS=0)")
    elif reachability.reaches(name):
        last = reachability.results().get(name)
        if last is None:
            found = Finding("ok", "configured; its first check is under way")
        else:
            latency_ms, checked_at = last.latency_ms, last.checked_at
            found = (
                Finding("ok", "configured; its API answered the last check")
                if last.reachable
                else Finding(
                    "degraded", f"configured; its API failed the last check ({last.error})"
                )
            )
    return ComponentHealth(
        name=name,
        kind="provider",
        status=found.status,
        required=False,
        latency_ms=latency_ms,
        checked_at=checked_at,
        detail=found.detail,
    )
