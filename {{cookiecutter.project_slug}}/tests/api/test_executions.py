"""Execution routes: reading and listing runs, filters, isolation and validation."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from app.db.types import utc_now
from app.models import Agent, Conversation, ExecutionStatus
from tests.support.builders import Builder, minutes_ago
from tests.support.factories import SignedInUser

EXECUTIONS = "/api/v1/executions"


@pytest.fixture
async def conversation(build: Builder, agent: Agent) -> Conversation:
    return await build.conversation(agent=agent)


async def test_read_execution_returns_every_field(
    client: httpx.AsyncClient, me: SignedInUser, conversation: Conversation, build: Builder
) -> None:
    started = utc_now() - timedelta(seconds=2)
    execution = await build.execution(
        conversation=conversation,
        status=ExecutionStatus.FAILED,
        input="What is 2+2?",
        output="partial",
        error_type="provider.timeout",
        error_message="scripted: timeout: took too long",
        input_tokens=120,
        output_tokens=30,
        cost=Decimal("0.0123456"),
        started_at=started,
        finished_at=started + timedelta(milliseconds=1500),
        duration_ms=1500.5,
    )

    response = await client.get(f"{EXECUTIONS}/{execution.id}", headers=me.headers)

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(execution.id)
    assert body["agent_id"] == str(conversation.agent_id)
    assert body["conversation_id"] == str(conversation.id)
    assert body["status"] == "failed"
    assert (body["input"], body["output"]) == ("What is 2+2?", "partial")
    assert (body["error_type"], body["error_message"]) == (
        "provider.timeout",
        "scripted: timeout: took too long",
    )
    assert (body["input_tokens"], body["output_tokens"]) == (120, 30)
    assert body["cost"] == "0.012346"
    assert body["duration_ms"] == 1500.5
    assert body["started_at"] is not None
    assert body["finished_at"] is not None
    assert body["created_at"] is not None


async def test_a_fresh_execution_costs_nothing_yet(
    client: httpx.AsyncClient, me: SignedInUser, conversation: Conversation, build: Builder
) -> None:
    execution = await build.execution(conversation=conversation)

    body = (await client.get(f"{EXECUTIONS}/{execution.id}", headers=me.headers)).json()

    assert body["status"] == "pending"
    assert body["cost"] == "0.000000"
    assert body["output"] is None
    assert body["started_at"] is None
    assert body["finished_at"] is None
    assert body["duration_ms"] is None


async def test_list_executions_pages_newest_first(
    client: httpx.AsyncClient, me: SignedInUser, conversation: Conversation, build: Builder
) -> None:
    for age in range(4):
        await build.execution(
            conversation=conversation, input=f"age-{age}", created_at=minutes_ago(age)
        )

    response = await client.get(EXECUTIONS, params={"skip": 0, "limit": 3}, headers=me.headers)

    assert response.status_code == 200
    body = response.json()
    assert (body["total"], body["skip"], body["limit"]) == (4, 0, 3)
    assert [e["input"] for e in body["items"]] == ["age-0", "age-1", "age-2"]


async def test_list_executions_filters_by_agent_and_status(
    client: httpx.AsyncClient,
    me: SignedInUser,
    agent: Agent,
    conversation: Conversation,
    build: Builder,
) -> None:
    other = await build.conversation(agent=await build.agent(owner_id=me.id))
    await build.execution(conversation=conversation, input="a", status=ExecutionStatus.COMPLETED)
    await build.execution(conversation=conversation, input="b", status=ExecutionStatus.FAILED)
    await build.execution(conversation=other, input="c", status=ExecutionStatus.COMPLETED)

    async def inputs(**params: Any) -> list[str]:
        body = (await client.get(EXECUTIONS, params=params, headers=me.headers)).json()
        return sorted(e["input"] for e in body["items"])

    assert await inputs(agent_id=str(agent.id)) == ["a", "b"]
    assert await inputs(status="completed") == ["a", "c"]
    assert await inputs(agent_id=str(agent.id), status="completed") == ["a"]
    assert await inputs(status="cancelled") == []


async def test_unknown_execution_is_404(client: httpx.AsyncClient, me: SignedInUser) -> None:
    response = await client.get(f"{EXECUTIONS}/{uuid.uuid4()}", headers=me.headers)

    assert response.status_code == 404
    assert response.json() == {"detail": "Execution not found"}


async def test_another_users_execution_is_404(
    client: httpx.AsyncClient, stranger: SignedInUser, conversation: Conversation, build: Builder
) -> None:
    execution = await build.execution(conversation=conversation)

    response = await client.get(f"{EXECUTIONS}/{execution.id}", headers=stranger.headers)

    assert response.status_code == 404
    assert response.json() == {"detail": "Execution not found"}


async def test_lists_show_only_ones_own_executions(
    client: httpx.AsyncClient,
    me: SignedInUser,
    stranger: SignedInUser,
    agent: Agent,
    conversation: Conversation,
    build: Builder,
) -> None:
    theirs = await build.conversation(agent=await build.agent(owner_id=stranger.id))
    await build.execution(conversation=conversation, input="mine")
    await build.execution(conversation=theirs, input="theirs")

    mine = (await client.get(EXECUTIONS, headers=me.headers)).json()
    by_my_agent = (
        await client.get(EXECUTIONS, params={"agent_id": str(agent.id)}, headers=stranger.headers)
    ).json()

    assert [e["input"] for e in mine["items"]] == ["mine"]
    assert mine["total"] == 1
    assert by_my_agent["items"] == []
    assert by_my_agent["total"] == 0


@pytest.mark.parametrize("path", ["", "/{id}"])
async def test_execution_routes_require_a_token(
    client: httpx.AsyncClient, conversation: Conversation, build: Builder, path: str
) -> None:
    execution = await build.execution(conversation=conversation)

    response = await client.get(EXECUTIONS + path.format(id=execution.id))

    assert response.status_code == 401


@pytest.mark.parametrize(
    "params",
    [
        {"status": "bogus"},
        {"status": "COMPLETED"},
        {"agent_id": "nope"},
        {"limit": 0},
        {"limit": 101},
        {"skip": -1},
    ],
)
async def test_list_executions_rejects_bad_parameters(
    client: httpx.AsyncClient, me: SignedInUser, params: dict[str, Any]
) -> None:
    response = await client.get(EXECUTIONS, params=params, headers=me.headers)

    assert response.status_code == 422


async def test_malformed_execution_id_is_422(client: httpx.AsyncClient, me: SignedInUser) -> None:
    response = await client.get(f"{EXECUTIONS}/not-a-uuid", headers=me.headers)

    assert response.status_code == 422
