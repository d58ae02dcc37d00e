"""The front door: `/` leads a developer to the playground and tells a client where to go."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field

from app import __version__
from app.api.deps import SettingsDep
from app.web.playground import PLAYGROUND_URL
from app.web.urls import root_path

router = APIRouter(tags=["service"])


class ServiceIndex(BaseModel):
    """What this service is and where its parts live; null for a part that is switched off."""

    name: str
    version: str
    health: str = Field(description="Liveness probe")
    readiness: str = Field(description="Readiness probe: database, store and providers")
    openapi: str | None = Field(description="The OpenAPI schema")
    docs: str | None = Field(description="Swagger UI")
    redoc: str | None = Field(description="ReDoc")
    playground: str | None = Field(description="The browser page for trying agents")


@router.get(
    "/",
    response_model=ServiceIndex,
    responses={307: {"description": "In development, to the playground"}},
)
async def service_index(request: Request, settings: SettingsDep) -> ServiceIndex | RedirectResponse:
    """In development, the playground; elsewhere a small JSON index of the service's links."""
    root = root_path(request)
    if settings.environment == "development" and settings.playground_enabled:
        return RedirectResponse(root + PLAYGROUND_URL)
    app = request.app
    return ServiceIndex(
        name=settings.app_name,
        version=__version__,
        health=f"{root}/health",
        readiness=f"{root}/health/ready",
        openapi=root + app.openapi_url if app.openapi_url else None,
        docs=root + app.docs_url if app.docs_url else None,
        redoc=root + app.redoc_url if app.redoc_url else None,
        playground=root + PLAYGROUND_URL if settings.playground_enabled else None,
    )
