"""Liveness and readiness probes."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import httpx
import pytest

from app.api import health
from tests.support.factories import AppFactory, client_for


async def test_liveness_answers_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readiness_checks_database_and_store(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"] == {"database": True, "store": True}
    assert "scripted" in body["providers"]


async def test_every_response_carries_a_request_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/health", headers={"X-Request-ID": "abc123"})
    assert response.headers["x-request-id"] == "abc123"
    generated = await client.get("/health")
    assert len(generated.headers["x-request-id"]) == 32


async def test_probes_need_no_credentials(client: httpx.AsyncClient) -> None:
    for path in ("/health", "/health/ready"):
        response = await client.get(path, headers={"Authorization": "Bearer junk"})
        assert response.status_code == 200


async def test_readiness_is_503_when_the_database_is_unreachable(
    make_app: AppFactory, tmp_path: Path
) -> None:
    """A database that went away after start-up (start-up itself refuses to begin without one)."""
    folder = tmp_path / "goes-away"
    folder.mkdir()
    broken = await make_app(database_url=f"sqlite+aiosqlite:///{folder / 'app.db'}")
    shutil.rmtree(folder)
    async with client_for(broken) as http:
        response = await http.get("/health/ready")
        liveness = await http.get("/health")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["checks"] == {"database": False, "store": True}
    assert liveness.status_code == 200


class _BrokenStore:
    async def ping(self) -> bool:
        raise ConnectionError("store unreachable")


class _HangingStore:
    async def ping(self) -> bool:
        await asyncio.sleep(3600)
        return True


@pytest.mark.parametrize("store", [_BrokenStore(), _HangingStore()])
async def test_readiness_is_503_when_the_store_fails_or_hangs(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch, store: object
) -> None:
    monkeypatch.setattr(health, "CHECK_TIMEOUT_SECONDS", 0.2)
    application = await make_app()
    real_store = application.state.store
    application.state.store = store
    try:
        async with client_for(application) as http:
            response = await http.get("/health/ready")
    finally:
        application.state.store = real_store
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": True, "store": False}
