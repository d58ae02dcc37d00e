"""Every response carries the security headers; pages with inline code name it by hash."""

from __future__ import annotations

import base64
import hashlib
import re

import httpx
import pytest
from fastapi import FastAPI

from app.api.middleware.security_headers import STRICT_POLICY
from app.core.config import Settings
from tests.support.apps import app_like
from tests.support.browser import STRICT_CSP
from tests.support.factories import client_for

COMMON = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/health"),
        ("GET", "/api/v1/users/me"),  # a 401
        ("GET", "/api/v1/nowhere"),  # a 404
        ("POST", "/api/v1/auth/register"),  # a 422
        ("GET", "/playground/"),
        ("GET", "/api/v1/openapi.json"),
    ],
)
async def test_every_response_has_the_headers_and_the_strict_policy(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await client.request(method, path)

    for name, value in COMMON.items():
        assert response.headers[name] == value, name
    assert response.headers["content-security-policy"] == STRICT_POLICY
    assert "strict-transport-security" not in response.headers


async def test_the_strict_policy_is_the_one_the_playground_is_tested_under() -> None:
    assert STRICT_POLICY == STRICT_CSP


async def test_refused_bodies_carry_the_headers_too(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        content=b" " * 2_000_000,
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 413
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_hsts_is_sent_over_tls_only(app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://test") as tls:
        response = await tls.get("/health")

    assert response.headers["strict-transport-security"].startswith("max-age=")


@pytest.mark.parametrize("page", ["/docs", "/redoc", "/docs/oauth2-redirect"])
async def test_docs_pages_allow_exactly_their_own_inline_scripts(
    client: httpx.AsyncClient, page: str
) -> None:
    response = await client.get(page)
    policy = response.headers["content-security-policy"]

    inline = re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL)
    for script in inline:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy
    script_src = next(part for part in policy.split(";") if "script-src" in part)
    assert "'unsafe-inline'" not in script_src
    assert "'unsafe-eval'" not in script_src
    assert "frame-ancestors 'none'" in policy


async def test_production_publishes_no_docs_unless_asked(settings: Settings) -> None:
    production = {"environment": "production", "secret_key": "p" * 40}
    async with client_for(app_like(settings, **production, docs_enabled=None)) as client:
        hidden = [(await client.get(path)).status_code for path in ("/docs", "/redoc")]
        schema = await client.get("/api/v1/openapi.json")
    async with client_for(app_like(settings, **production, docs_enabled=True)) as client:
        shown = await client.get("/docs")

    assert hidden == [404, 404]
    assert schema.status_code == 404
    assert shown.status_code == 200
