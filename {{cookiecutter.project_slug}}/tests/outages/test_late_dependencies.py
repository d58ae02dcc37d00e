"""Start-up before a dependency is up: the service waits, then becomes ready by itself.

Each test starts a real uvicorn whose dependency is not there yet, waits until the log
shows a failed attempt, brings the dependency up where the URL points, and waits (with a
deadline) for `/health/ready` to answer 200.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.live_server import free_port
from tests.support.served import ServedApp, served, service_env
from tests.support.tcp_proxy import (
    TcpProxy,
    database_url_at,
{%- if cookiecutter.use_redis %}
    redis_url_at,
{%- endif %}
    to_database,
{%- if cookiecutter.use_redis %}
    to_redis,
{%- endif %}
)
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow

# Plenty of quick attempts: the dependency comes up whenever the test says so.
PATIENT = {
    "DATABASE_CONNECT_ATTEMPTS": "100",
    "DATABASE_CONNECT_BACKOFF_SECONDS": "0.1",
    "DATABASE_CONNECT_MAX_BACKOFF_SECONDS": "0.4",
{%- if cookiecutter.use_redis %}
    "REDIS_CONNECT_ATTEMPTS": "100",
    "REDIS_CONNECT_BACKOFF_SECONDS": "0.1",
    "REDIS_CONNECT_MAX_BACKOFF_SECONDS": "0.4",
{%- endif %}
    "LOG_JSON": "true",
}
FIRST_FAILURE_SECONDS = 30.0


def _failed_attempts(server: ServedApp, dependency: str) -> list[dict[str, Any]]:
    """The `dependency_unreachable` warnings the server logged for `dependency`."""
    found = []
    for line in server.log.read_text(errors="replace").splitlines():
        if "dependency_unreachable" not in line:
            continue
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get("dependency") == dependency:
            found.append(event)
    return found


def _wait_for_a_failed_attempt(server: ServedApp, dependency: str) -> dict[str, Any]:
    """The first failed attempt's warning, once the server has logged it."""

    def failed() -> bool:
        if server.process.poll() is not None:
            raise AssertionError(f"uvicorn exited: {server.log_tail()}")
        return bool(_failed_attempts(server, dependency))

    wait_until(failed, timeout=FIRST_FAILURE_SECONDS, message=f"no failed {dependency} attempt")
    return _failed_attempts(server, dependency)[0]


def _component(server: ServedApp, name: str) -> dict[str, Any]:
    response = httpx.get(f"{server.url}/health/ready/{name}", timeout=10)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="set TEST_DATABASE_URL")
def test_the_service_waits_for_postgresql_and_is_ready_once_it_answers(
    database_url: str, tmp_path: Path
) -> None:
    port = free_port()  # nothing listens here until the forwarder starts
    forwarder = TcpProxy(to_database(database_url), port)
    env = service_env(DATABASE_URL=database_url_at(database_url, port), **PATIENT)
    try:
        with served(env, tmp_path, wait_ready=False) as server:
            first = _wait_for_a_failed_attempt(server, "database")
            assert first["level"] == "warning"
            assert (first["attempt"], first["attempts"]) == (1, 100)
            assert first["location"] == f"127.0.0.1:{port}"
            assert first["error"] == "ConnectionRefusedError"
            assert 0.05 <= first["retry_in_seconds"] <= 0.1

            forwarder.start()
            server.wait_ready()

            assert _component(server, "database")["status"] == "ok"
    finally:
        forwarder.cut()


def test_the_service_waits_for_its_sqlite_folder_and_is_ready_once_it_exists(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "volume"
    folder.write_text("")  # a file where the folder should be: SQLite cannot open the database
    env = service_env(DATABASE_URL=f"sqlite+aiosqlite:///{folder / 'app.db'}", **PATIENT)
    with served(env, tmp_path, wait_ready=False) as server:
        first = _wait_for_a_failed_attempt(server, "database")
        assert first["location"] == f"SQLite file {folder / 'app.db'}"
        assert first["error"] == "OperationalError"

        folder.unlink()  # the volume is mounted
        folder.mkdir()
        server.wait_ready()

        assert _component(server, "database")["status"] == "ok"
{%- if cookiecutter.use_redis %}


@pytest.mark.redis
@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="set TEST_REDIS_URL")
def test_the_service_waits_for_redis_and_is_ready_once_it_answers(tmp_path: Path) -> None:
    redis_url = os.environ["TEST_REDIS_URL"]
    port = free_port()  # nothing listens here until the forwarder starts
    forwarder = TcpProxy(to_redis(redis_url), port)
    env = service_env(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'app.db'}",
        REDIS_URL=redis_url_at(redis_url, port),
        **PATIENT,
    )
    try:
        with served(env, tmp_path, wait_ready=False) as server:
            first = _wait_for_a_failed_attempt(server, "redis")
            assert (first["attempt"], first["attempts"]) == (1, 100)
            assert first["location"] == f"127.0.0.1:{port}"
            assert first["error"] == "ConnectionRefusedError"

            forwarder.start()
            server.wait_ready()

            assert _component(server, "redis")["status"] == "ok"
    finally:
        forwarder.cut()
{%- endif %}
