"""The front door: the playground in development, a JSON index of links elsewhere."""

from __future__ import annotations

import httpx
import pytest

from app import __version__
from app.core.config import Settings
from tests.support.apps import app_like
from tests.support.factories import client_for


async def test_development_redirects_to_the_playground(settings: Settings) -> None:
    async with client_for(app_like(settings, environment="development")) as http:
        response = await http.get("/")
    assert response.status_code == 307
    assert response.headers["location"] == "/playground/"


@pytest.mark.parametrize(
    ("environment", "playground_enabled"),
    [("development", False), ("production", None), ("staging", None)],
)
async def test_without_a_playground_the_index_is_json(
    settings: Settings, environment: str, playground_enabled: bool | None
) -> None:
    application = app_like(settings, environment=environment, playground_enabled=playground_enabled)
    async with client_for(application) as http:
        response = await http.get("/")
    assert response.status_code == 200
    assert response.json() == {
        "name": settings.app_name,
        "version": __version__,
        "health": "/health",
        "readiness": "/health/ready",
        "openapi": f"{settings.api_v1_prefix}/openapi.json",
        "docs": "/docs",
        "redoc": "/redoc",
        "playground": None,
    }


async def test_production_may_opt_in_to_the_playground_and_still_answers_json(
    settings: Settings,
) -> None:
    application = app_like(settings, environment="production", playground_enabled=True)
    async with client_for(application) as http:
        index = (await http.get("/")).json()
        page = await http.get(index["playground"])
    assert index["playground"] == "/playground/"
    assert page.status_code == 200


async def test_every_link_in_the_index_answers(client: httpx.AsyncClient) -> None:
    index = (await client.get("/")).json()
    links = {key: value for key, value in index.items() if key not in ("name", "version")}
    assert None not in links.values()
    for name, path in links.items():
        response = await client.get(path)
        assert response.status_code == 200, f"{name} at {path}: {response.status_code}"


async def test_the_index_is_in_the_openapi_schema(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/api/v1/openapi.json")).json()
    assert "/" in schema["paths"]
    assert "ServiceIndex" in schema["components"]["schemas"]
