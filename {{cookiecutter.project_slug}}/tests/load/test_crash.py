"""A server killed mid-run (`kill -9`): after a restart its runs end failed, never stuck.

Runs hang on the fake provider when the whole process group is killed, so nothing gets
to record an outcome. The restarted server, on the same database and Redis, must fail
them as interrupted once their leases lapse, keep the users' messages, and answer a
cancel or a follow on them at once.
"""
{%- if cookiecutter.database == "postgresql" and cookiecutter.use_redis and cookiecutter.use_openai %}

from __future__ import annotations

import json
import os
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.ai.runs.cancellation import LEASE_TTL_SECONDS
from tests.support.databases import temporary_database
from tests.support.fake_provider import FakeProvider
from tests.support.fake_replies import Hang
from tests.support.served import served, service_env
from tests.support.waiting import wait_until

REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
SERVED_REDIS_INDEX = 15
SWEEP_SECONDS = 1
RUNS = 3
PROMPT_SECONDS = 3.0

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.skipif(not REDIS_URL, reason="set TEST_REDIS_URL to use a real Redis"),
]


def _sign_in(http: httpx.Client) -> dict[str, str]:
    email = f"crash-{time.monotonic_ns()}@example.com"
    password = "correct-horse-42"
    http.post("/api/v1/auth/register", json={"email": email, "password": password})
    tokens = http.post("/api/v1/auth/login", data={"username": email, "password": password})
    return {"Authorization": f"Bearer {tokens.json()['access_token']}"}


def _first_event(response: httpx.Response) -> dict[str, Any]:
    """The data of the stream's first event (`execution.started`)."""
    for line in response.iter_lines():
        if line.startswith("data:"):
            data: dict[str, Any] = json.loads(line[5:])
            return data
    raise AssertionError("the stream ended before its first event")


def _start_hanging_runs(url: str, stack: ExitStack) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Sign in, start `RUNS` streamed runs and return once each has started."""
    http = stack.enter_context(httpx.Client(base_url=url, timeout=30))
    headers = _sign_in(http)
    agent = http.post(
        "/api/v1/agents",
        json={"name": "doomed", "provider": "openai", "model": "gpt-4o-mini"},
        headers=headers,
    )
    assert agent.status_code == 201, agent.text
    started = []
    for number in range(RUNS):
        response = stack.enter_context(
            http.stream(
                "POST",
                f"/api/v1/agents/{agent.json()['id']}/execute",
                json={"message": f"doomed run {number}", "stream": True},
                headers=headers,
            )
        )
        started.append(_first_event(response))
    return headers, started


def test_runs_of_a_killed_server_fail_as_interrupted_after_a_restart(
    postgres_admin_url: str, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    fake_provider.always(Hang(seconds=120))
    with temporary_database(postgres_admin_url) as database_url:
        env = service_env(
            DATABASE_URL=database_url,
            REDIS_URL=f"{REDIS_URL.rsplit('/', 1)[0]}/{SERVED_REDIS_INDEX}",
            OPENAI_API_KEY="sk-test",
            OPENAI_BASE_URL=fake_provider.url,
            LLM_MAX_RETRIES="0",
            SWEEP_INTERVAL_SECONDS=str(SWEEP_SECONDS),
        )
        with served(env, tmp_path) as first, ExitStack() as streams:
            headers, started = _start_hanging_runs(first.url, streams)
            fake_provider.wait_for_requests(RUNS)
            first.kill()
        killed_at = time.monotonic()

        with served(env, tmp_path) as second, httpx.Client(base_url=second.url, timeout=30) as http:
            ids = [run["execution_id"] for run in started]

            def all_failed() -> bool:
                return all(
                    http.get(f"/api/v1/executions/{i}", headers=headers).json()["status"]
                    == "failed"
                    for i in ids
                )

            # A lease outlives its process by at most its TTL; the sweep then runs within
            # its interval, with no request needed to trigger it.
            bound = LEASE_TTL_SECONDS + SWEEP_SECONDS + 10
            wait_until(all_failed, timeout=bound, message="orphans were never swept")
            assert time.monotonic() - killed_at < bound
            for run in started:
                execution = http.get(
                    f"/api/v1/executions/{run['execution_id']}", headers=headers
                ).json()
                assert execution["error_type"] == "interrupted"
                assert execution["error_message"] == "The process running this execution stopped"
                messages = http.get(
                    f"/api/v1/conversations/{run['conversation_id']}/messages", headers=headers
                ).json()["items"]
                assert [(m["role"], m["content"]) for m in messages] == [
                    ("user", execution["input"])
                ]

            asked = time.monotonic()
            cancel = http.post(f"/api/v1/executions/{ids[0]}/cancel", headers=headers)
            with http.stream(
                "GET", f"/api/v1/executions/{ids[1]}/events", headers=headers
            ) as followed:
                lines = [line for line in followed.iter_lines() if line.startswith("event:")]
            answered_in = time.monotonic() - asked

    assert cancel.status_code == 409, cancel.text
    assert "already failed" in cancel.json()["detail"]
    assert lines == ["event: execution.failed"]
    assert answered_in < PROMPT_SECONDS
    assert len(fake_provider.requests) == RUNS
{%- endif %}
