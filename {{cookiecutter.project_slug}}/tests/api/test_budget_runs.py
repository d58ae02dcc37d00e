"""Runs stopped by a budget, as clients see them: a stream's failure event, OpenAI's 402."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI

from app.core.scopes import BudgetScope, ScopeKind
from app.crud import budget as budget_crud
from tests.support.factories import UserFactory
from tests.support.runs import create_agent, execute, messages_of, parse_sse, scripted_calls


async def _tight_budget(app: FastAPI, user_id: uuid.UUID) -> None:
    """Room for less than one call of an agent writing up to its default 1024 tokens."""
    async with app.state.database.transaction() as session:
        scope = BudgetScope(ScopeKind.USER, user_id)
        await budget_crud.put(session, scope=scope, limits={"daily_tokens": 200})


async def test_a_stream_ends_with_a_budget_failure_naming_the_budget(
    app: FastAPI, client: httpx.AsyncClient, users: UserFactory
) -> None:
    me = await users.signed_in()
    agent = await create_agent(client, me.headers)
    await _tight_budget(app, me.id)
    marker = f"budget-{uuid.uuid4().hex}"

    response = await execute(client, me.headers, agent["id"], marker, stream=True)

    assert response.status_code == 200
    events = parse_sse(response.text)
    assert [name for name, _ in events] == ["execution.started", "execution.failed"]
    failure = events[-1][1]
    assert failure["error_type"] == "budget_exceeded"
    assert "user budget for tokens per day" in failure["error_message"]
    assert scripted_calls(app, marker) == 0
    stored = await messages_of(client, me.headers, failure["conversation_id"])
    assert [m["content"] for m in stored] == [marker]


async def test_a_chat_completion_stopped_by_a_budget_is_a_402(
    app: FastAPI, client: httpx.AsyncClient, users: UserFactory
) -> None:
    me = await users.signed_in()
    agent = await create_agent(client, me.headers)
    await _tight_budget(app, me.id)

    response = await client.post(
        "/v1/chat/completions",
        json={"model": agent["name"], "messages": [{"role": "user", "content": "hi"}]},
        headers=me.headers,
    )

    assert response.status_code == 402
    error = response.json()["error"]
    assert error["code"] == "budget_exceeded"
    assert "tokens per day" in error["message"]
