"""Limits on runs, chat completions, tool calls and uploads: 429 with Retry-After, 402 for budgets."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import httpx
from fastapi import FastAPI

from app.ai.budgets import BudgetLedger, ScopeLimits
from app.core.scopes import BudgetScope, ScopeKind
from app.crud import budget as budget_crud
from app.models import Agent, Execution, ExecutionStatus
from tests.support.builders import Builder
from tests.support.factories import AppFactory, SignedInUser, UserFactory, client_for
from tests.support.knowledge import BASES, create_base


async def _signed_in(app: FastAPI, client: httpx.AsyncClient) -> SignedInUser:
    return await UserFactory(client, app.state.database).signed_in()


async def test_runs_over_the_users_rate_are_refused(make_app: AppFactory, build: Builder) -> None:
    app = await make_app(user_run_rate_limit="2/minute")
    async with client_for(app) as client:
        me = await _signed_in(app, client)
        other = await _signed_in(app, client)
        agent = await build.agent(owner_id=me.id)
        their_agent = await build.agent(owner_id=other.id)
        execute = f"/api/v1/agents/{agent.id}/execute"
        answers = [
            (await client.post(execute, json={"message": "hi"}, headers=me.headers)).status_code
            for _ in range(2)
        ]
        refused = await client.post(
            "/v1/chat/completions",
            json={"model": agent.name, "messages": [{"role": "user", "content": "hi"}]},
            headers=me.headers,
        )
        someone_else = await client.post(
            f"/api/v1/agents/{their_agent.id}/execute",
            json={"message": "hi"},
            headers=other.headers,
        )

    assert answers == [200, 200]
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert someone_else.status_code == 200


async def test_direct_tool_calls_over_the_users_rate_are_refused(make_app: AppFactory) -> None:
    app = await make_app(user_tool_rate_limit="1/minute")
    async with client_for(app) as client:
        me = await _signed_in(app, client)
        url = "/api/v1/tools/calculator/execute"
        body = {"arguments": {"expression": "1 + 1"}}
        first = await client.post(url, json=body, headers=me.headers)
        second = await client.post(url, json=body, headers=me.headers)

    assert first.status_code == 200
    assert second.status_code == 429
    assert second.json() == {"detail": "Too many requests; try again later"}


async def test_runs_in_progress_are_capped_per_user(make_app: AppFactory, build: Builder) -> None:
    app = await make_app(max_concurrent_runs_per_user=2)
    async with client_for(app) as client:
        me = await _signed_in(app, client)
        agent: Agent = await build.agent(owner_id=me.id)
        conversation = await build.conversation(agent=agent)
        for status in (ExecutionStatus.PENDING, ExecutionStatus.RUNNING):
            await build.execution(conversation=conversation, status=status)
        refused = await client.post(
            f"/api/v1/agents/{agent.id}/execute", json={"message": "hi"}, headers=me.headers
        )

    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "5"
    assert refused.json() == {
        "detail": "You already have 2 runs in progress; wait for one to finish"
    }


async def test_a_budgets_cap_on_runs_in_progress_applies_when_lower(
    app: FastAPI, client: httpx.AsyncClient, build: Builder
) -> None:
    me = await _signed_in(app, client)
    agent: Agent = await build.agent(owner_id=me.id)
    conversation = await build.conversation(agent=agent)
    await build.execution(conversation=conversation, status=ExecutionStatus.RUNNING)
    async with app.state.database.transaction() as session:
        await budget_crud.put(
            session, scope=BudgetScope(ScopeKind.USER, me.id), limits={"concurrent_runs": 1}
        )

    refused = await client.post(
        f"/api/v1/agents/{agent.id}/execute", json={"message": "hi"}, headers=me.headers
    )

    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "5"
    assert refused.json() == {
        "detail": "You already have 1 runs in progress; wait for one to finish"
    }


async def _spend(app: FastAPI, user_id: uuid.UUID, tokens: int) -> None:
    """Record `tokens` spent today by the user, as finished model calls leave them."""
    scope = BudgetScope(ScopeKind.USER, user_id)
    limits = ScopeLimits.defaults(scope, app.state.settings)
    ledger: BudgetLedger = app.state.runs.ledger
    held = await ledger.reserve([limits], tokens=tokens, cost=Decimal(0))
    await ledger.settle(held, tokens=tokens, cost=Decimal(0))


async def test_a_run_with_a_spent_budget_is_refused_before_it_starts(
    app: FastAPI, client: httpx.AsyncClient, build: Builder
) -> None:
    me = await _signed_in(app, client)
    agent: Agent = await build.agent(owner_id=me.id)
    async with app.state.database.transaction() as session:
        await budget_crud.put(
            session, scope=BudgetScope(ScopeKind.USER, me.id), limits={"daily_tokens": 500}
        )
    await _spend(app, me.id, 500)

    refused = await client.post(
        f"/api/v1/agents/{agent.id}/execute", json={"message": "hi"}, headers=me.headers
    )
    chat = await client.post(
        "/v1/chat/completions",
        json={"model": agent.name, "messages": [{"role": "user", "content": "hi"}]},
        headers=me.headers,
    )

    assert refused.status_code == 402
    body = refused.json()
    budget = body["budget"]
    assert budget["scope"] == {"kind": "user", "id": str(me.id)}
    assert (budget["metric"], budget["period"]) == ("tokens", "day")
    assert (budget["limit"], budget["used"]) == ("500", "500")
    resets_at = datetime.fromisoformat(budget["resets_at"])
    assert (resets_at.hour, resets_at.minute) == (0, 0)
    assert budget["resets_at"] in body["detail"]
    seconds = int(refused.headers["retry-after"])
    assert 0 < seconds <= 86_400 + 1
    assert abs((resets_at - datetime.now(UTC)).total_seconds() - seconds) < 5
    assert chat.status_code == 402
    assert chat.json()["error"]["budget"] == budget
    assert chat.json()["error"]["message"] == body["detail"]
    assert await build.count(Execution) == 0


async def test_uploads_over_the_users_rate_are_refused(make_app: AppFactory) -> None:
    app = await make_app(user_upload_rate_limit="1/minute")
    async with client_for(app) as client:
        me = await _signed_in(app, client)
        base = await create_base(client, me.headers)
        url = f"{BASES}/{base['id']}/documents"
        first = await client.post(url, data={"note": "nothing"}, headers=me.headers)
        second = await client.post(url, data={"note": "nothing"}, headers=me.headers)

    assert first.status_code == 422
    assert second.status_code == 429
    assert int(second.headers["retry-after"]) >= 1
