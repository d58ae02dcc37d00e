"""PostgreSQL cut off from a running service by a proxy, then reachable again.

The service runs under a real uvicorn process whose DATABASE_URL points at a TCP proxy
the test controls: `cut()` drops every connection and refuses new ones. Requests answer
503 meanwhile; a run pauses at its next recorded step and goes on once the database is
back, so nothing it did is lost or done twice.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.outages.support import Client, StreamedRun, bearer, scripted_agent
from tests.support.app_process import app_process
from tests.support.tcp_proxy import TcpProxy, proxied_database
from tests.support.waiting import wait_until

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL"), reason="set TEST_DATABASE_URL to run"
    ),
]

ME = "/api/v1/users/me"
AGENTS = "/api/v1/agents"
LOGIN = "/api/v1/auth/login"
# The model asks for a tool after a while: storing that request meets the outage.
RUN_MESSAGE = '!sleep 2\n!tool calculator {"expression": "1+1"}'
# The model answers after a while: the answer waits, with the outcome, for the database.
ANSWER_MESSAGE = "!sleep 2\nstill here"
# The run engine's (DBOS's) log line when recording a step waits for the database.
PAUSED_LINE = "Database connection failed"


@pytest.fixture
def proxied(database_url: str) -> Iterator[tuple[TcpProxy, str]]:
    with proxied_database(database_url) as proxy_and_url:
        yield proxy_and_url


@pytest.fixture
def proxy(proxied: tuple[TcpProxy, str]) -> TcpProxy:
    return proxied[0]


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    """Where the server's output goes, read to know when the run met the outage."""
    return tmp_path / "uvicorn.log"


@pytest.fixture
def base_url(proxied: tuple[TcpProxy, str], log_path: Path) -> Iterator[str]:
    settings = {
        "DATABASE_URL": proxied[1],
        "DATABASE_POOL_TIMEOUT_SECONDS": "2",
        "SWEEP_INTERVAL_SECONDS": "1",
        # Long enough that the signed-in user is still cached when the outage begins.
        "USER_CACHE_SECONDS": "600",
    }
    with app_process(settings, log_path) as url:
        yield url


def test_requests_answer_503_while_the_database_is_away_and_runs_go_on_after(
    base_url: str, proxy: TcpProxy, log_path: Path
) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as http:
        client = Client(http)
        email, tokens = client.sign_up()
        headers = bearer(tokens)
        agent_id = scripted_agent(client, headers)
        run = StreamedRun(base_url, headers, agent_id, RUN_MESSAGE)
        execution_id = run.execution_id()

        proxy.cut()

        for method, path in (("GET", AGENTS), ("POST", LOGIN)):
            form = {"data": {"username": email, "password": "wrong"}} if path == LOGIN else {}
            during = client.request(method, path, headers=headers, **form)
            assert during.status_code == 503, (path, during.text)
            assert int(during.headers["retry-after"]) >= 1
        # The signed-in user was cached when the run started: a route that reads no row
        # keeps answering (the revocation check needs only the store).
        assert client.request("GET", ME, headers=headers).status_code == 200
        assert client.request("GET", "/health/ready").status_code == 503
        assert client.request("GET", "/health").status_code == 200
        wait_until(
            lambda: PAUSED_LINE in log_path.read_text(),
            timeout=60,  # the run's next step; slow on a busy machine
            message="the run never met the outage",
        )

        proxy.restore()

        def recovered() -> bool:
            return client.request("GET", AGENTS, headers=headers).status_code == 200

        wait_until(recovered, timeout=20, message="the service never recovered")
        # The run paused at the outage and went on from where it was: each model call,
        # tool call and message once.
        final = run.finish()[-1]
        assert final[0] == "execution.completed", final
        execution = client.request("GET", f"/api/v1/executions/{execution_id}", headers=headers)
        assert execution.json()["status"] == "completed", execution.json()
        conversation_id = execution.json()["conversation_id"]
        messages = client.request(
            "GET", f"/api/v1/conversations/{conversation_id}/messages", headers=headers
        ).json()["items"]
        assert [message["role"] for message in messages] == [
            "user",
            "assistant",
            "tool",
            "assistant",
        ]
        assert messages[0]["content"] == RUN_MESSAGE
        running = client.request("GET", "/api/v1/executions", headers=headers).json()["items"]
        assert [item["status"] for item in running if item["status"] == "running"] == []
        assert client.server_errors() == []


def test_an_answer_that_arrives_while_the_database_is_away_is_stored_once_it_is_back(
    base_url: str, proxy: TcpProxy, log_path: Path
) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as http:
        client = Client(http)
        _, tokens = client.sign_up()
        headers = bearer(tokens)
        agent_id = scripted_agent(client, headers)
        run = StreamedRun(base_url, headers, agent_id, ANSWER_MESSAGE)
        execution_id = run.execution_id()

        proxy.cut()
        wait_until(
            lambda: PAUSED_LINE in log_path.read_text(),
            timeout=60,  # the answer comes after the model's two seconds; slower when busy
            message="the answer never met the outage",
        )
        proxy.restore()

        final = run.finish()[-1]
        assert final[0] == "execution.completed", final
        execution = client.request("GET", f"/api/v1/executions/{execution_id}", headers=headers)
        assert execution.json()["status"] == "completed"
        assert execution.json()["output"] == "[scripted] still here"
        conversation_id = execution.json()["conversation_id"]
        messages = client.request(
            "GET", f"/api/v1/conversations/{conversation_id}/messages", headers=headers
        ).json()["items"]
        assert [(m["role"], m["content"], m["incomplete"]) for m in messages] == [
            ("user", ANSWER_MESSAGE, False),
            ("assistant", "[scripted] still here", False),
        ]
        assert client.server_errors() == []
