"""A burst of runs on one uvicorn worker over SQLite: each completes or is shed cleanly."""
{%- if cookiecutter.use_openai %}

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.fake_provider import FakeProvider
from tests.support.fake_replies import Hang, Text
from tests.support.load import UNLIMITED_USERS, burst, create_agent, sign_in, statuses, stored
from tests.support.served import ServedApp, served, service_env

pytestmark = pytest.mark.slow

REPLY = "Done under load."


@pytest.fixture
def server(fake_provider: FakeProvider, tmp_path: Path) -> Iterator[tuple[ServedApp, str]]:
    """One worker on a fresh SQLite file, OpenAI pointed at the fake provider."""
    fake_provider.always(Hang(seconds=0.1, then=Text(REPLY)))
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'load.db'}"
    env = service_env(
        DATABASE_URL=database_url,
        OPENAI_API_KEY="sk-test",
        OPENAI_BASE_URL=fake_provider.url,
        LLM_MAX_RETRIES="0",
        **UNLIMITED_USERS,
    )
    with served(env, tmp_path) as app:
        yield app, database_url


async def test_50_simultaneous_runs_complete_or_are_shed_cleanly(
    server: tuple[ServedApp, str], fake_provider: FakeProvider
) -> None:
    app, database_url = server
    async with httpx.AsyncClient(base_url=app.url, timeout=30) as http:
        owner, headers = await sign_in(http)
        agent_id = await create_agent(http, headers, provider="openai", model="gpt-4o-mini")

    answers = await burst(app.url, [headers], [agent_id], 50, stream=False)

    completed = [a for a in answers if a.status == 200 and a.body["status"] == "completed"]
    refused = [a for a in answers if a.refused]
    assert len(completed) + len(refused) == 50, (statuses(answers), app.log_tail())
    assert completed, statuses(answers)
    after = await stored(database_url, [owner])
    assert dict(after.executions) == {"completed": len(completed)}
    assert after.conversations == len(completed)
    assert dict(after.messages) == {"user": len(completed), "assistant": len(completed)}
    assert dict(after.messages_per_conversation) == {2: len(completed)}
    assert len(fake_provider.requests) == len(completed)
{%- endif %}
