"""PostgreSQL cut off from a running service by a proxy, then reachable again.

The service runs under a real uvicorn process whose DATABASE_URL points at a TCP proxy
the test controls: `cut()` drops every connection and refuses new ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.outages.support import Client, StreamedRun, bearer, scripted_agent
from tests.support.app_process import app_process
from tests.support.tcp_proxy import TcpProxy, proxied_database
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ME = "/api/v1/users/me"


@pytest.fixture
def proxied(database_url: str) -> Iterator[tuple[TcpProxy, str]]:
    with proxied_database(database_url) as proxy_and_url:
        yield proxy_and_url


@pytest.fixture
def proxy(proxied: tuple[TcpProxy, str]) -> TcpProxy:
    return proxied[0]


@pytest.fixture
def base_url(proxied: tuple[TcpProxy, str], tmp_path: Path) -> Iterator[str]:
    settings = {
        "DATABASE_URL": proxied[1],
        "DATABASE_POOL_TIMEOUT_SECONDS": "2",
        "SWEEP_INTERVAL_SECONDS": "1",
    }
    with app_process(settings, tmp_path / "uvicorn.log") as url:
        yield url


def test_requests_answer_503_while_the_database_is_away_and_recover_after(
    base_url: str, proxy: TcpProxy
) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as http:
        client = Client(http)
        email, tokens = client.sign_up()
        headers = bearer(tokens)
        agent_id = scripted_agent(client, headers)
        run = StreamedRun(base_url, headers, agent_id, "!sleep 2\nstill here")
        execution_id = run.execution_id()

        proxy.cut()

        for method, path in (("GET", ME), ("GET", "/api/v1/agents"), ("POST", "/api/v1/auth/login")):
            options = {"data": {"username": email, "password": "wrong"}} if method == "POST" else {}
            during = client.request(method, path, headers=headers, **options)
            assert during.status_code == 503, (path, during.text)
            assert int(during.headers["retry-after"]) >= 1
        assert client.request("GET", "/health/ready").status_code == 503
        assert client.request("GET", "/health").status_code == 200

        proxy.restore()

        def recovered() -> bool:
            return client.request("GET", ME, headers=headers).status_code == 200

        wait_until(recovered, timeout=20, message="the service never recovered")
        run.finish()

        def settled() -> bool:
            answer = client.request("GET", f"/api/v1/executions/{execution_id}", headers=headers)
            return answer.json()["status"] != "running"

        wait_until(settled, timeout=30, message="the run was left running")
        execution = client.request("GET", f"/api/v1/executions/{execution_id}", headers=headers)
        assert execution.json()["status"] == "completed", execution.json()
        assert client.server_errors() == []
