"""Guardrails on the OpenAI provider: the real SDK against `tests.support.fake_provider`.

The fake server counts every request, so a blocked input is seen never to reach the
provider, and its chunks split a term wherever a test wants.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from app.db.session import Database
from tests.support.factories import AppFactory, UserFactory, client_for
from tests.support.fake_provider import FakeProvider
from tests.support.fake_replies import Events, Json, Text, chunk, usage_chunk
from tests.support.runs import create_agent, execute, messages_of, parse_sse

OPENAI = {"provider": "openai", "model": "gpt-4o-mini"}


@pytest.fixture
async def service(make_app: AppFactory, fake_provider: FakeProvider) -> FastAPI:
    """The service with OpenAI pointed at the fake provider."""
    return await make_app(
        openai_api_key=SecretStr("sk-test"), openai_base_url=fake_provider.url, llm_max_retries=0
    )


@pytest.fixture
async def http(service: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(service) as client:
        yield client


@pytest.fixture
async def headers(http: httpx.AsyncClient, service: FastAPI) -> dict[str, str]:
    database: Database = service.state.database
    return (await UserFactory(http, database).signed_in()).headers


def _verdict(flagged: bool, *categories: str) -> dict[str, Any]:
    names = ["harassment", "violence"]
    result = {"flagged": flagged, "categories": {name: name in categories for name in names}}
    return {"id": "modr-1", "model": "omni-moderation-latest", "results": [result]}


async def test_a_blocked_input_sends_nothing_to_openai(
    http: httpx.AsyncClient, headers: dict[str, str], fake_provider: FakeProvider
) -> None:
    guard = {"type": "pii", "action": "block", "kinds": ["email"]}
    agent = await create_agent(http, headers, **OPENAI, guardrails=[guard])

    execution = (await execute(http, headers, agent["id"], "I am ada@example.com")).json()

    assert execution["status"] == "failed"
    assert execution["error_type"] == "guardrail_blocked"
    assert execution["error_message"] == "pii: email address in input"
    assert fake_provider.requests == []
    messages = await messages_of(http, headers, execution["conversation_id"])
    assert [m["content"] for m in messages] == ["I am ada@example.com"]


async def test_a_term_split_inside_a_word_across_deltas_is_held_back(
    http: httpx.AsyncClient, headers: dict[str, str], fake_provider: FakeProvider
) -> None:
    guard = {"type": "blocked_terms", "terms": ["falcon"], "stages": ["output"]}
    agent = await create_agent(http, headers, **OPENAI, guardrails=[guard])
    opening = "Here is a perfectly ordinary opening sentence for the client. "
    pieces = [opening, "The codename is Fal", "con, and it ships."]
    fake_provider.queue(
        Events(
            [
                chunk({"role": "assistant", "content": ""}),
                *(chunk({"content": piece}) for piece in pieces),
                chunk({}, "stop"),
                usage_chunk(),
                "[DONE]",
            ]
        )
    )

    response = await execute(http, headers, agent["id"], "tell me", stream=True)

    events = parse_sse(response.text)
    sent = "".join(data["text"] for name, data in events if name == "message.delta")
    assert events[-1][0] == "execution.failed"
    assert events[-1][1]["error_message"] == "blocked_terms: blocked term in output"
    assert sent.startswith("Here is a perfectly ordinary")
    assert "fal" not in sent.lower()
    assert "Fal" not in response.text
    assert len(fake_provider.requests) == 1


async def test_a_streamed_redaction_is_what_is_stored(
    http: httpx.AsyncClient, headers: dict[str, str], fake_provider: FakeProvider
) -> None:
    agent = await create_agent(http, headers, **OPENAI, guardrails=[{"type": "pii"}])
    reply = "Sure: reach her at ada@example.com or 415-555-2671. " + "More follows. " * 12
    fake_provider.queue(Text(reply))

    response = await execute(http, headers, agent["id"], "how do I reach Ada?", stream=True)

    events = parse_sse(response.text)
    final = events[-1][1]
    assert events[-1][0] == "execution.completed", final
    sent = "".join(data["text"] for name, data in events if name == "message.delta")
    assert "ada@" not in sent
    assert "2671" not in sent
    assert sent.startswith("Sure: reach her at [email] or [phone].")
    stored = await messages_of(http, headers, final["conversation_id"])
    assert stored[-1]["content"] == sent == final["output"]


async def test_moderation_blocks_a_flagged_input_before_any_chat_call(
    http: httpx.AsyncClient, headers: dict[str, str], fake_provider: FakeProvider
) -> None:
    agent = await create_agent(http, headers, **OPENAI, guardrails=[{"type": "moderation"}])
    fake_provider.queue(Json(_verdict(True, "harassment")))

    execution = (await execute(http, headers, agent["id"], "you are worthless")).json()

    assert execution["status"] == "failed"
    assert execution["error_message"] == "moderation: flagged by moderation (harassment) in input"
    assert [request.path for request in fake_provider.requests] == ["/v1/moderations"]
    assert fake_provider.requests[0].json["input"] == "you are worthless"


async def test_moderation_lets_a_clean_run_through(
    http: httpx.AsyncClient, headers: dict[str, str], fake_provider: FakeProvider
) -> None:
    agent = await create_agent(http, headers, **OPENAI, guardrails=[{"type": "moderation"}])
    fake_provider.queue(Json(_verdict(False)), Text("Lisbon."), Json(_verdict(False)))

    execution = (await execute(http, headers, agent["id"], "capital of Portugal?")).json()

    assert execution["status"] == "completed", execution
    assert execution["output"] == "Lisbon."
    paths = [request.path for request in fake_provider.requests]
    assert paths == ["/v1/moderations", "/v1/chat/completions", "/v1/moderations"]
