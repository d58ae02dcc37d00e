"""Redis killed under a running service, then started again empty on the same port.

The service runs under a real uvicorn process on the tests' database (PostgreSQL with
TEST_DATABASE_URL) and a private redis-server without persistence, so the restart loses
every key, as a crashed cache node would.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from redis import Redis

from tests.outages.support import Client, StreamedRun, bearer, scripted_agent
from tests.support.app_process import app_process
from tests.support.redis_server import RedisServer, redis_server
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow

LOGIN_LIMIT = 5
ME = "/api/v1/users/me"
REFRESH = "/api/v1/auth/refresh"


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server


@pytest.fixture
def base_url(database_url: str, redis: RedisServer, tmp_path: Path) -> Iterator[str]:
    settings = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis.url,
        "REDIS_SOCKET_TIMEOUT_SECONDS": "1",
        "AUTH_RATE_LIMIT": f"{LOGIN_LIMIT}/minute",
        "SWEEP_INTERVAL_SECONDS": "1",
    }
    with app_process(settings, tmp_path / "uvicorn.log") as url:
        yield url


def test_requests_degrade_cleanly_while_redis_is_down_and_recover_when_it_returns(
    base_url: str, redis: RedisServer
) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as http:
        client = Client(http)
        email, tokens = client.sign_up()
        _, logged_out = client.sign_up()
        logout = client.request("POST", "/api/v1/auth/logout", headers=bearer(logged_out))
        assert logout.status_code == 204
        spent = tokens["refresh_token"]
        rotated = client.request("POST", REFRESH, json={"refresh_token": spent}).json()
        headers = bearer(rotated)
        agent_id = scripted_agent(client, headers)
        run = StreamedRun(base_url, headers, agent_id, "!sleep 3\nstill here")
        execution_id = run.execution_id()

        redis.stop()

        # The revocation check fails closed: no token is believed while it cannot be checked.
        during = client.request("GET", ME, headers=headers)
        assert during.status_code == 503, during.text
        assert int(during.headers["retry-after"]) >= 1
        assert client.request("GET", ME, headers=bearer(logged_out)).status_code == 503
        # Sign-in limits fall back to this process's counters with the same limit.
        logins = [client.log_in(email).status_code for _ in range(LOGIN_LIMIT + 1)]
        assert logins[:LOGIN_LIMIT] == [200] * LOGIN_LIMIT
        assert logins[LOGIN_LIMIT] == 429
        # The run in flight needs no Redis to finish: it completes and keeps its messages.
        events = run.finish()
        assert events[-1][0] == "execution.completed", events[-1]

        redis.start()

        def recovered() -> bool:
            return client.request("GET", ME, headers=headers).status_code == 200

        wait_until(recovered, timeout=20, message="the service never recovered")
        # The restarted Redis came back empty; the revocations were reloaded from PostgreSQL.
        assert client.request("GET", ME, headers=bearer(logged_out)).status_code == 401
        execution = client.request("GET", f"/api/v1/executions/{execution_id}", headers=headers)
        assert execution.json()["status"] == "completed"
        conversation_id = execution.json()["conversation_id"]
        messages = client.request(
            "GET", f"/api/v1/conversations/{conversation_id}/messages", headers=headers
        ).json()["items"]
        assert [message["role"] for message in messages] == ["user", "assistant"]
        # Counting goes back to Redis once it answers a rate-limit call again.
        with Redis.from_url(redis.url) as direct:

            def counted_in_redis() -> bool:
                client.log_in(email)
                return bool(direct.keys("ratelimit:*"))

            wait_until(counted_in_redis, timeout=10, message="rate limits never went back")
        # A refresh token spent before the restart is still spent: replaying it ends the sign-in.
        assert client.request("POST", REFRESH, json={"refresh_token": spent}).status_code == 401
        assert client.request("GET", ME, headers=headers).status_code == 401
        assert client.server_errors() == []
