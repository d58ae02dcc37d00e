"""Every field a client sends is bounded, so no request can store or cost without limit."""

from __future__ import annotations

import json

import httpx
from sqlalchemy import func, select

from app.db.session import Database
from app.models import Agent, Message
from tests.support.factories import SignedInUser

COMPLETIONS = "/v1/chat/completions"


async def _message_count(database: Database) -> int:
    async with database.transaction() as session:
        return await session.scalar(select(func.count()).select_from(Message)) or 0


async def test_twenty_thousand_chat_messages_are_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, me: SignedInUser, agent: Agent, database: Database
) -> None:
    messages = [{"role": "user", "content": "hi"}] * 20_000

    response = await client.post(
        COMPLETIONS, json={"model": agent.name, "messages": messages}, headers=me.headers
    )

    assert response.status_code == 422
    assert response.json()["error"]["param"] == "messages"
    assert await _message_count(database) == 0


async def test_chat_message_length_and_total_size_are_capped(
    client: httpx.AsyncClient, me: SignedInUser, agent: Agent
) -> None:
    one_long = [{"role": "user", "content": "x" * 100_001}]
    many_large = [{"role": "user", "content": "x" * 90_000}] * 5
    long_part = [{"role": "user", "content": [{"type": "text", "text": "x" * 100_001}]}]

    for messages in (one_long, many_large, long_part):
        response = await client.post(
            COMPLETIONS, json={"model": agent.name, "messages": messages}, headers=me.headers
        )
        assert response.status_code == 422, response.text


async def test_an_oversized_model_name_is_refused(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    response = await client.post(
        COMPLETIONS,
        json={"model": "m" * 101, "messages": [{"role": "user", "content": "hi"}]},
        headers=me.headers,
    )

    assert response.status_code == 422
    assert response.json()["error"]["param"] == "model"


async def test_tool_arguments_are_bounded_in_size_depth_and_values(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    deep: dict[str, object] = {}
    for _ in range(40):
        deep = {"x": deep}
    cases = {
        "size": {"expression": "1", "pad": "x" * 300_000},
        "depth": deep,
        "nan": {"expression": float("nan")},
    }
    for case, arguments in cases.items():
        response = await client.post(
            "/api/v1/tools/calculator/execute",
            content=json.dumps({"arguments": arguments}).encode(),  # NaN as Python writes it
            headers={**me.headers, "Content-Type": "application/json"},
        )
        assert response.status_code == 422, (case, response.text)
        assert response.json()["detail"][0]["loc"][:2] == ["body", "arguments"], case


async def test_a_tool_name_in_the_path_is_bounded(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    response = await client.get(f"/api/v1/tools/{'t' * 101}", headers=me.headers)

    assert response.status_code == 422


async def test_list_filters_are_bounded(client: httpx.AsyncClient, me: SignedInUser) -> None:
    for path in ("/api/v1/agents", "/api/v1/conversations"):
        response = await client.get(path, params={"q": "x" * 101}, headers=me.headers)
        assert response.status_code == 422, path


async def test_conversation_metadata_is_bounded(
    client: httpx.AsyncClient, me: SignedInUser, agent: Agent
) -> None:
    response = await client.post(
        "/api/v1/conversations",
        json={"agent_id": str(agent.id), "metadata": {"pad": "x" * 20_000}},
        headers=me.headers,
    )

    assert response.status_code == 422
    assert "16384 bytes" in response.json()["detail"][0]["msg"]


async def test_refresh_tokens_are_bounded(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/auth/refresh", json={"refresh_token": "x" * 5000})

    assert response.status_code == 422
