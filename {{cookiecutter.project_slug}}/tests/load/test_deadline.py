"""A provider that only keeps its stream alive cannot hold a run past RUN_TIMEOUT_SECONDS.

In-process tests prove the per-call deadline and the run deadline apart; this one runs
the whole path on a real server: uvicorn, the OpenAI SDK, a trickle of keep-alives.
"""
{%- if cookiecutter.use_openai %}

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.support.fake_provider import FakeProvider
from tests.support.fake_replies import KeepAlive
from tests.support.load import create_agent, execute_streaming, sign_in
from tests.support.runs import messages_of
from tests.support.served import served, service_env

pytestmark = pytest.mark.slow

RUN_TIMEOUT_SECONDS = 2


async def test_a_run_fed_only_keep_alives_fails_at_the_run_deadline(
    fake_provider: FakeProvider, tmp_path: Path
) -> None:
    fake_provider.always(KeepAlive(interval=0.1))
    env = service_env(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'deadline.db'}",
        OPENAI_API_KEY="sk-test",
        OPENAI_BASE_URL=fake_provider.url,
        LLM_MAX_RETRIES="0",
        RUN_TIMEOUT_SECONDS=str(RUN_TIMEOUT_SECONDS),
        # The call's own deadline stays far away: the run's must be the one that ends it.
        LLM_CALL_TIMEOUT_SECONDS="120",
    )
    with served(env, tmp_path) as app:
        async with httpx.AsyncClient(base_url=app.url, timeout=30) as http:
            _, headers = await sign_in(http)
            agent_id = await create_agent(http, headers, provider="openai", model="gpt-4o-mini")
            started = time.monotonic()
            answer = await execute_streaming(http, headers, agent_id, "hello?")
            elapsed = time.monotonic() - started
            name, final = answer.events[-1]
            stored = await http.get(f"/api/v1/executions/{final['execution_id']}", headers=headers)
            messages = await messages_of(http, headers, final["conversation_id"])

    assert answer.status == 200
    assert name == "execution.failed"
    assert (final["status"], final["error_type"]) == ("failed", "deadline")
    assert final["error_message"] == f"The run did not finish within {RUN_TIMEOUT_SECONDS}s"
    assert RUN_TIMEOUT_SECONDS <= elapsed < RUN_TIMEOUT_SECONDS + 5
    assert stored.json()["status"] == "failed"
    assert messages[0]["role"] == "user"
    assert len(fake_provider.requests) == 1
{%- endif %}
