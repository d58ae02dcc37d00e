"""Per-user limits on runs, chat completions and tool calls: a 429 with Retry-After."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from app.models import Agent, ExecutionStatus
from tests.support.builders import Builder
from tests.support.factories import AppFactory, SignedInUser, UserFactory, client_for


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
