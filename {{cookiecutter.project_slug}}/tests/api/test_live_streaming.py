"""Streaming over a real uvicorn server: events arrive while the run is still going."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from app.core.config import Settings
from tests.support.live_server import running_server
from tests.support.runs import parse_sse

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def base_url(settings: Settings) -> Iterator[str]:
    with running_server(settings) as url:
        yield url


def _sign_in(http: httpx.Client) -> dict[str, str]:
    email = f"live-{time.monotonic_ns()}@example.com"
    password = "correct-horse-42"
    http.post("/api/v1/auth/register", json={"email": email, "password": password})
    tokens = http.post("/api/v1/auth/login", data={"username": email, "password": password})
    return {"Authorization": f"Bearer {tokens.json()['access_token']}"}


def test_first_event_arrives_before_the_run_ends(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as http:
        headers = _sign_in(http)
        agent = http.post(
            "/api/v1/agents",
            json={"name": "slow", "provider": "scripted", "model": "scripted"},
            headers=headers,
        ).json()
        started = time.perf_counter()
        with http.stream(
            "POST",
            f"/api/v1/agents/{agent['id']}/execute",
            json={"message": "!sleep 1\nhello", "stream": True},
            headers={**headers, "Accept-Encoding": "gzip"},
        ) as response:
            assert response.headers.get("content-encoding") is None
            chunks = response.iter_text()
            first = next(chunks)
            first_at = time.perf_counter() - started
            execution_id = parse_sse(first)[0][1]["execution_id"]
            status_meanwhile = http.get(
                f"/api/v1/executions/{execution_id}", headers=headers
            ).json()["status"]
            rest = "".join(chunks)
        total = time.perf_counter() - started

    assert parse_sse(first)[0][0] == "execution.started"
    assert status_meanwhile == "running"
    assert parse_sse(rest)[-1][0] == "execution.completed"
    assert first_at < total - 0.5
