"""With several uvicorn workers, a scrape of any worker sums what every worker counted."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.served import served, service_env

pytestmark = pytest.mark.slow

REQUESTS = 40


def _health_count(exposition: str) -> float:
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            labels = sample.labels
            if sample.name == "http_requests_total" and labels.get("route") == "/health":
                return float(sample.value)
    return 0.0


def test_every_scrape_sums_all_workers(tmp_path: Path) -> None:
    shared = tmp_path / "prometheus"
    shared.mkdir()
    env = service_env(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'metrics.db'}",
        PROMETHEUS_MULTIPROC_DIR=str(shared),
    )
    with served(env, tmp_path, workers=2) as app, httpx.Client(base_url=app.url) as http:
        for _ in range(REQUESTS):
            assert http.get("/health").status_code == 200
        # Each scrape lands on either worker; every one must see all the requests.
        counts = {_health_count(http.get("/metrics").text) for _ in range(6)}

    assert counts == {float(REQUESTS)}
    assert list(shared.glob("*.db")), "the workers wrote no samples to the shared folder"
