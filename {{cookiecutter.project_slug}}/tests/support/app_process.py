"""The service under a real `uvicorn` process, configured only through its environment."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

from app.core.config import PROJECT_ROOT
from tests.support.live_server import free_port
from tests.support.waiting import wait_until

TEST_SECRET = "outage-test-secret-that-is-long-enough-for-hs256"
START_SECONDS = 60.0
STOP_SECONDS = 30.0
# Settings the parent's environment must not leak into a child that sets its own.
_OWN_PREFIXES = ("DATABASE_", "REDIS_", "FIRST_ADMIN", "SECRET_KEY", "ENVIRONMENT")


def child_environment(**settings: str) -> dict[str, str]:
    """This process's environment without the service's settings, plus `settings`."""
    kept = {key: value for key, value in os.environ.items() if not key.startswith(_OWN_PREFIXES)}
    return kept | {"ENVIRONMENT": "test", "SECRET_KEY": TEST_SECRET} | settings


def uvicorn_command(port: int, *extra: str) -> list[str]:
    """`uvicorn app.main:app` as the README runs it, on loopback."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "app.main:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *extra,
    ]


@contextmanager
def app_process(
    settings: Mapping[str, str], log_path: Path, *, extra: Sequence[str] = ()
) -> Iterator[str]:
    """Serve until the block exits; yields the base URL once /health answers.

    The output goes to `log_path`, so a failing test can show it and a full pipe never
    blocks the server. The process is stopped by its PID with SIGTERM.
    """
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and uvicorn
            uvicorn_command(port, "--log-level", "warning", *extra),
            cwd=PROJECT_ROOT,
            env=child_environment(**settings),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:

            def healthy() -> bool:
                if process.poll() is not None:
                    raise AssertionError(f"uvicorn exited: {log_path.read_text()}")
                try:
                    return httpx.get(f"{base_url}/health", timeout=1).status_code == 200
                except httpx.TransportError:
                    return False

            wait_until(healthy, timeout=START_SECONDS, message="uvicorn never answered /health")
            yield base_url
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_SECONDS)
