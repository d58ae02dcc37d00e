"""Benchmarks start real uvicorn processes through `scripts.serving`: up, measured, stopped."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from scripts.serving import peak_rss_mb, rss_mb, serving, start, stop, wait_ready

pytestmark = pytest.mark.slow


def test_a_served_app_answers_reports_its_memory_and_stops(tmp_path: Path) -> None:
    with serving("scripts.bare_app:app", env=dict(os.environ), log=tmp_path / "bare.log") as served:
        assert httpx.get(f"{served.url}/health").json() == {"status": "ok"}
        assert 0 < rss_mb(served.pid) <= peak_rss_mb(served.pid)

    assert served.process.poll() is not None


def test_a_server_that_cannot_start_is_reported_with_its_log(tmp_path: Path) -> None:
    served = start("scripts.no_such_module:app", env=dict(os.environ), log=tmp_path / "x.log")
    try:
        with pytest.raises(RuntimeError, match="no_such_module"):
            wait_ready(served, timeout=30)
    finally:
        stop(served)
