"""A client that retries with its Idempotency-Key reaches the real provider once.

The provider is the real OpenAI SDK talking to `tests.support.fake_provider` on loopback,
which counts the requests that reach it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from app.db.session import Database
from tests.support.factories import AppFactory, UserFactory, client_for
from tests.support.fake_provider import FakeProvider
from tests.support.fake_replies import Hang, Text
from tests.support.runs import create_agent, execute_with_key

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


@pytest.fixture
async def agent_id(http: httpx.AsyncClient, headers: dict[str, str]) -> str:
    return str((await create_agent(http, headers, **OPENAI))["id"])


async def test_a_client_that_gave_up_retries_and_gets_the_one_answer(
    http: httpx.AsyncClient, headers: dict[str, str], agent_id: str, fake_provider: FakeProvider
) -> None:
    fake_provider.queue(Hang(seconds=1.0, then=Text("Worth the wait.")))
    body = {"message": "take your time"}
    first = asyncio.create_task(execute_with_key(http, headers, agent_id, "retry-me", body))
    await asyncio.to_thread(fake_provider.wait_for_requests, 1)
    first.cancel()  # the client's own timeout: the run goes on without it

    retried = await execute_with_key(http, headers, agent_id, "retry-me", body)

    assert retried.status_code == 200, retried.text
    assert retried.headers["idempotent-replayed"] == "true"
    assert retried.json()["status"] == "completed"
    assert retried.json()["output"] == "Worth the wait."
    assert len(fake_provider.requests) == 1


async def test_requests_racing_with_one_key_reach_the_provider_once(
    http: httpx.AsyncClient, headers: dict[str, str], agent_id: str, fake_provider: FakeProvider
) -> None:
    fake_provider.always(Text("Only once."))
    body = {"message": "together"}

    answers = await asyncio.gather(
        *(execute_with_key(http, headers, agent_id, "together", body) for _ in range(4))
    )

    assert {answer.status_code for answer in answers} == {200}
    assert len({answer.json()["id"] for answer in answers}) == 1
    assert {answer.json()["output"] for answer in answers} == {"Only once."}
    assert len(fake_provider.requests) == 1
