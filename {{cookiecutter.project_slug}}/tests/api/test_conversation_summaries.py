"""A long conversation through the API: its older turns are summarised once, by the agent's model.

The provider is the real OpenAI SDK talking to `tests.support.fake_provider` on loopback,
so each summarising request and what the next answer is sent can be read off the wire.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from app.ai.runs.history import SUMMARISER_PROMPT, SUMMARY_PREFIX
from app.db.session import Database
from tests.support.factories import AppFactory, UserFactory, client_for
from tests.support.fake_provider import FakeProvider
from tests.support.fake_replies import Status, Text
from tests.support.runs import create_agent, execute

# About 105 estimated tokens a turn: two turns and a summary fill the budget.
TURN = 400


@pytest.fixture
async def service(make_app: AppFactory, fake_provider: FakeProvider) -> FastAPI:
    """OpenAI pointed at the fake provider, with a budget a few turns outgrow."""
    return await make_app(
        openai_api_key=SecretStr("sk-test"),
        openai_base_url=fake_provider.url,
        llm_max_retries=0,
        history_token_budget=256,
        history_summary_max_tokens=16,
    )


@pytest.fixture
async def http(service: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(service) as client:
        yield client


@pytest.fixture
async def headers(http: httpx.AsyncClient, service: FastAPI) -> dict[str, str]:
    database: Database = service.state.database
    return (await UserFactory(http, database).signed_in()).headers


@pytest.fixture
async def agent_id(http: httpx.AsyncClient, headers: dict[str, str]) -> str:
    agent = await create_agent(http, headers, provider="openai", model="gpt-4o-mini", tools=[])
    return str(agent["id"])


async def _say(
    http: httpx.AsyncClient,
    headers: dict[str, str],
    agent_id: str,
    message: str,
    conversation_id: str | None = None,
) -> dict[str, Any]:
    extra = {"conversation_id": conversation_id} if conversation_id else {}
    response = await execute(http, headers, agent_id, message, **extra)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == "completed", body
    return body


async def _conversation(
    http: httpx.AsyncClient, headers: dict[str, str], conversation_id: str
) -> dict[str, Any]:
    response = await http.get(f"/api/v1/conversations/{conversation_id}", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _system_texts(body: dict[str, Any]) -> list[str]:
    return [m["content"] for m in body["messages"] if m["role"] == "system"]


def _said(body: dict[str, Any]) -> str:
    return "\n".join(str(m["content"]) for m in body["messages"])


async def test_older_turns_are_summarised_once_and_the_summary_is_reused(
    http: httpx.AsyncClient, headers: dict[str, str], agent_id: str, fake_provider: FakeProvider
) -> None:
    fake_provider.queue(Text("A" * TURN))
    first = await _say(http, headers, agent_id, "a" * TURN)
    conversation_id = first["conversation_id"]
    assert len(fake_provider.requests) == 1

    fake_provider.queue(Text("They spoke of a."), Text("B" * TURN))
    await _say(http, headers, agent_id, "b" * TURN, conversation_id)

    bodies = fake_provider.bodies()
    assert len(bodies) == 3
    summarising, answering = bodies[1], bodies[2]
    assert _system_texts(summarising) == [SUMMARISER_PROMPT]
    assert "a" * TURN in _said(summarising)
    assert "b" * TURN not in _said(summarising)
    assert _system_texts(answering) == [
        "You are helpful.",
        SUMMARY_PREFIX + "They spoke of a.",
    ]
    assert [m["role"] for m in answering["messages"]][1:] == ["system", "assistant", "user"]
    stored = await _conversation(http, headers, conversation_id)
    assert (stored["summary"], stored["summary_through"]) == ("They spoke of a.", 1)

    fake_provider.queue(Text("They spoke of a and b."), Text("C"))
    await _say(http, headers, agent_id, "c" * TURN, conversation_id)

    bodies = fake_provider.bodies()
    assert len(bodies) == 5
    summarising = bodies[3]
    # Only what was added since, folded into the summary so far.
    assert "Summary so far:\nThey spoke of a." in _said(summarising)
    assert "b" * TURN in _said(summarising)
    assert "a" * TURN not in _said(summarising)
    assert _system_texts(bodies[4])[-1] == SUMMARY_PREFIX + "They spoke of a and b."
    stored = await _conversation(http, headers, conversation_id)
    assert (stored["summary"], stored["summary_through"]) == ("They spoke of a and b.", 3)

    fake_provider.queue(Text("D"))
    await _say(http, headers, agent_id, "d", conversation_id)

    # Nothing new fell out of the budget: the stored summary is sent without a new call.
    bodies = fake_provider.bodies()
    assert len(bodies) == 6
    assert _system_texts(bodies[5])[-1] == SUMMARY_PREFIX + "They spoke of a and b."


async def test_a_failing_summary_call_falls_back_to_a_marker_and_the_run_completes(
    http: httpx.AsyncClient, headers: dict[str, str], agent_id: str, fake_provider: FakeProvider
) -> None:
    fake_provider.queue(Text("A" * TURN))
    first = await _say(http, headers, agent_id, "a" * TURN)
    conversation_id = first["conversation_id"]

    fake_provider.queue(Status(500), Text("Still here."))
    second = await _say(http, headers, agent_id, "b" * TURN, conversation_id)

    assert second["output"] == "Still here."
    bodies = fake_provider.bodies()
    assert len(bodies) == 3
    assert _system_texts(bodies[2])[-1] == "[1 earlier messages omitted]"
    stored = await _conversation(http, headers, conversation_id)
    # Not stored, so a later run asks for a real summary again.
    assert (stored["summary"], stored["summary_through"]) == (None, None)
