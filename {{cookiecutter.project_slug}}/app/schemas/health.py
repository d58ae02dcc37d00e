"""What the liveness and readiness probes answer, as the OpenAPI document shows it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

ComponentStatus = Literal["ok", "degraded", "down"]
ComponentKind = Literal["database", "redis", "provider", "runs"]


class Liveness(BaseModel):
    """The process answers."""

    status: Literal["ok"] = "ok"


class ComponentHealth(BaseModel):
    """One thing the service depends on, and how it is doing."""

    name: str = Field(description="The component's name, as `GET /health/ready/{service}` takes it")
    kind: ComponentKind
    status: ComponentStatus = Field(
        description="ok; degraded: usable with a limit or a doubt; down: not answering"
    )
    required: bool = Field(description="Whether the service is not ready while this is not ok")
    latency_ms: float | None = Field(
        description="How long the check took; null when nothing was measured"
    )
    checked_at: datetime | None = Field(
        description="When it was checked: now, or a provider's last background check; "
        "null before the first"
    )
    detail: str = Field(description="What the check found, for a person to read")
    counts: dict[str, int] = Field(
        default_factory=dict, description="Numbers behind the status, such as runs in flight"
    )


class Readiness(BaseModel):
    """Each dependency's state, and whether traffic may be sent here."""

    status: Literal["ok", "unavailable"]
    checks: dict[str, bool] = Field(
        description="Whether the database and the store answer (`components` tells more)"
    )
    providers: list[str] = Field(description="Providers configured for agents to use")
    components: dict[str, ComponentHealth] = Field(
        description="Every component by name: the database, Redis when configured, each "
        "configured provider and the runs"
    )
