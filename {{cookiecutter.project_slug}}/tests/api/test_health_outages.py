"""Readiness while a required dependency is away: 503 with Retry-After, then ready again.

Each outage is real: a SQLite folder removed, a pool with no free connection{% if cookiecutter.use_redis %}, or a
TCP proxy in front of PostgreSQL or Redis that stops forwarding{% else %}, or a TCP
proxy in front of PostgreSQL that stops forwarding{% endif %}. The service recovers
without a restart: its pools reconnect once the dependency answers again.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from app.api import health
from tests.support.factories import AppFactory, client_for
{%- if cookiecutter.use_redis %}
from tests.support.tcp_proxy import TcpProxy, proxied_database, redis_url_at, tcp_proxy, to_redis
{%- else %}
from tests.support.tcp_proxy import TcpProxy, proxied_database
{%- endif %}
from tests.support.waiting import wait_for


async def _ready(http: httpx.AsyncClient) -> bool:
    return (await http.get("/health/ready")).status_code == 200


def _assert_unready(response: httpx.Response, component: str) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) >= 1
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["components"][component]["status"] == "down"
    assert body["components"]["runs"]["status"] == "ok"


async def test_readiness_is_503_when_the_database_is_unreachable(
    make_app: AppFactory, tmp_path: Path
) -> None:
    """A database that went away after start-up (start-up itself waits for one)."""
    folder = tmp_path / "goes-away"
    folder.mkdir()
    broken = await make_app(database_url=f"sqlite+aiosqlite:///{folder / 'app.db'}")
    # A rename is atomic: a background task reconnecting mid-delete cannot refill it.
    folder.rename(tmp_path / "gone")
    # As when a server goes away: no open connection survives (one a background task
    # opened before the rename would still reach the moved file).
    await broken.state.database.engine.dispose()
    async with client_for(broken) as http:
        response = await http.get("/health/ready")
        alone = await http.get("/health/ready/database")
        runs = await http.get("/health/ready/runs")
        liveness = await http.get("/health")

    _assert_unready(response, "database")
    assert response.json()["checks"] == {"database": False, "store": True}
    database = response.json()["components"]["database"]
    assert database["detail"] == "unreachable (OperationalError)"
    assert database["latency_ms"] >= 0
    assert alone.status_code == 503
    assert alone.json()["status"] == "down"
    assert int(alone.headers["retry-after"]) >= 1
    assert runs.status_code == 200
    assert liveness.status_code == 200


async def test_a_database_that_does_not_answer_in_time_is_down(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every connection is taken and the pool would wait 30 s: the probe gives up first."""
    monkeypatch.setattr(health, "CHECK_TIMEOUT_SECONDS", 0.2)
    application = await make_app(
        database_pool_size=1, database_max_overflow=0, database_pool_timeout_seconds=30
    )
    async with (
        application.state.database.engine.connect() as held,
        client_for(application) as http,
    ):
        await held.execute(text("SELECT 1"))
        response = await http.get("/health/ready/database")

    assert response.status_code == 503
    assert response.json()["detail"] == "no answer within 0.2 s"


@pytest.fixture
def proxied(database_url: str) -> Iterator[tuple[TcpProxy, str]]:
    with proxied_database(database_url) as proxy_and_url:
        yield proxy_and_url


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="set TEST_DATABASE_URL")
async def test_postgresql_cut_off_makes_the_service_unready_until_it_answers_again(
    make_app: AppFactory, proxied: tuple[TcpProxy, str]
) -> None:
    proxy, url = proxied
    application = await make_app(database_url=url)
    async with client_for(application) as http:
        assert await _ready(http)

        proxy.cut()
        _assert_unready(await http.get("/health/ready"), "database")

        proxy.restore()
        await wait_for(lambda: _ready(http), message="readiness never recovered")
{%- if cookiecutter.use_redis %}


@pytest.mark.redis
@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="set TEST_REDIS_URL")
async def test_redis_cut_off_makes_the_service_unready_until_it_answers_again(
    make_app: AppFactory,
) -> None:
    redis_url = os.environ["TEST_REDIS_URL"]
    with tcp_proxy(to_redis(redis_url)) as proxy:
        application = await make_app(
            redis_url=redis_url_at(redis_url, proxy.port), redis_socket_timeout_seconds=1
        )
        async with client_for(application) as http:
            assert await _ready(http)

            proxy.cut()
            response = await http.get("/health/ready")
            alone = await http.get("/health/ready/redis")

            proxy.restore()
            await wait_for(lambda: _ready(http), message="readiness never recovered")

    _assert_unready(response, "redis")
    assert response.json()["checks"] == {"database": True, "store": False}
    assert alone.status_code == 503
    assert alone.json()["detail"] == "did not answer PING"
{%- endif %}
