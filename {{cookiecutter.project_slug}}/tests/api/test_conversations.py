"""Conversation routes and their messages: CRUD, order, filters, isolation and validation."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from app.models import Agent, Conversation, Execution, ExecutionStatus, Message, MessageRole
from tests.support.builders import Builder, minutes_ago
from tests.support.factories import SignedInUser

CONVERSATIONS = "/api/v1/conversations"


def _nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


async def test_create_conversation_with_defaults(
    client: httpx.AsyncClient, me: SignedInUser, agent: Agent
) -> None:
    response = await client.post(
        CONVERSATIONS, json={"agent_id": str(agent.id)}, headers=me.headers
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["agent_id"] == str(agent.id)
    assert body["title"] == "New conversation"
    assert body["metadata"] == {}
    assert "meta" not in body


async def test_create_conversation_stores_title_and_metadata(
    client: httpx.AsyncClient, me: SignedInUser, agent: Agent
) -> None:
    metadata = {
        "channel": "web",
        "tags": ["a", "b"],
        "depth": {"n": 1.5, "ok": None},
        "deep": _nested(30),
    }
    created = (
        await client.post(
            CONVERSATIONS,
            json={"agent_id": str(agent.id), "title": " Planning ", "metadata": metadata},
            headers=me.headers,
        )
    ).json()

    fetched = await client.get(f"{CONVERSATIONS}/{created['id']}", headers=me.headers)

    assert fetched.status_code == 200
    assert fetched.json() == created
    assert created["title"] == "Planning"
    assert created["metadata"] == metadata


async def test_create_conversation_with_another_users_agent_is_404(
    client: httpx.AsyncClient, stranger: SignedInUser, agent: Agent, build: Builder
) -> None:
    response = await client.post(
        CONVERSATIONS, json={"agent_id": str(agent.id)}, headers=stranger.headers
    )

    assert response.status_code == 404
    assert response.json() == {"detail": "Agent not found"}
    assert await build.count(Conversation) == 0


async def test_create_conversation_with_unknown_agent_is_404(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    response = await client.post(
        CONVERSATIONS, json={"agent_id": str(uuid.uuid4())}, headers=me.headers
    )

    assert response.status_code == 404
    assert response.json() == {"detail": "Agent not found"}


async def test_list_conversations_pages_newest_first(
    client: httpx.AsyncClient, me: SignedInUser, agent: Agent, build: Builder
) -> None:
    for age in range(4):
        await build.conversation(agent=agent, title=f"age-{age}", created_at=minutes_ago(age))

    response = await client.get(CONVERSATIONS, params={"skip": 2, "limit": 5}, headers=me.headers)

    body = response.json()
    assert (body["total"], body["skip"], body["limit"]) == (4, 2, 5)
    assert [c["title"] for c in body["items"]] == ["age-2", "age-3"]


async def test_list_conversations_filters_by_agent_and_title(
    client: httpx.AsyncClient, me: SignedInUser, agent: Agent, build: Builder
) -> None:
    other_agent = await build.agent(owner_id=me.id)
    await build.conversation(agent=agent, title="Trip to Lisbon")
    await build.conversation(agent=agent, title="Budget")
    await build.conversation(agent=other_agent, title="Lisbon hotels")

    async def titles(**params: Any) -> list[str]:
        body = (await client.get(CONVERSATIONS, params=params, headers=me.headers)).json()
        return sorted(c["title"] for c in body["items"])

    assert await titles(agent_id=str(agent.id)) == ["Budget", "Trip to Lisbon"]
    assert await titles(q="lisbon") == ["Lisbon hotels", "Trip to Lisbon"]
    assert await titles(agent_id=str(other_agent.id), q="LISBON") == ["Lisbon hotels"]
    assert await titles(agent_id=str(uuid.uuid4())) == []


async def test_update_conversation_title_and_metadata(
    client: httpx.AsyncClient, me: SignedInUser, agent: Agent, build: Builder
) -> None:
    conversation = await build.conversation(agent=agent, title="Old", meta={"a": 1})
    url = f"{CONVERSATIONS}/{conversation.id}"

    renamed = await client.patch(url, json={"title": "New"}, headers=me.headers)
    replaced = await client.patch(url, json={"metadata": {"b": 2}}, headers=me.headers)

    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["title"] == "New"
    assert renamed.json()["metadata"] == {"a": 1}
    assert replaced.json()["title"] == "New"
    assert replaced.json()["metadata"] == {"b": 2}


async def test_update_conversation_cannot_move_it_to_another_agent(
    client: httpx.AsyncClient, me: SignedInUser, agent: Agent, build: Builder
) -> None:
    conversation = await build.conversation(agent=agent)
    other_agent = await build.agent(owner_id=me.id)

    response = await client.patch(
        f"{CONVERSATIONS}/{conversation.id}",
        json={"agent_id": str(other_agent.id)},
        headers=me.headers,
    )

    assert response.json()["agent_id"] == str(agent.id)


async def test_delete_conversation_removes_its_messages_and_executions(
    client: httpx.AsyncClient, me: SignedInUser, agent: Agent, build: Builder
) -> None:
    conversation = await build.conversation(agent=agent)
    await build.message(conversation=conversation)
    await build.execution(conversation=conversation)
    kept = await build.conversation(agent=agent)
    await build.message(conversation=kept)

    response = await client.delete(f"{CONVERSATIONS}/{conversation.id}", headers=me.headers)

    assert response.status_code == 204
    assert await build.fetch_conversation(conversation.id) is None
    assert await build.count(Message) == 1
    assert await build.count(Execution) == 0
    assert await build.fetch_agent(agent.id) is not None


async def test_messages_come_in_order_with_every_field(
    client: httpx.AsyncClient, me: SignedInUser, agent: Agent, build: Builder
) -> None:
    conversation = await build.conversation(agent=agent)
    execution = await build.execution(conversation=conversation, status=ExecutionStatus.COMPLETED)
    call = {"id": "call_1", "name": "calculator", "arguments": {"expression": "2+2"}}
    await build.message(conversation=conversation, role=MessageRole.USER, content="2+2?")
    await build.message(
        conversation=conversation,
        role=MessageRole.ASSISTANT,
        content="",
        tool_calls=[call],
        input_tokens=12,
        output_tokens=5,
        execution_id=execution.id,
    )
    await build.message(
        conversation=conversation,
        role=MessageRole.TOOL,
        content="4",
        tool_call_id="call_1",
        name="calculator",
    )

    response = await client.get(f"{CONVERSATIONS}/{conversation.id}/messages", headers=me.headers)

    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 3
    user, assistant, tool = body["items"]
    assert [m["sequence"] for m in body["items"]] == [1, 2, 3]
    assert [m["role"] for m in body["items"]] == ["user", "assistant", "tool"]
    assert user["content"] == "2+2?"
    assert assistant["tool_calls"] == [call]
    assert (assistant["input_tokens"], assistant["output_tokens"]) == (12, 5)
    assert assistant["execution_id"] == str(execution.id)
    assert (tool["tool_call_id"], tool["name"], tool["content"]) == ("call_1", "calculator", "4")
    assert user["tool_calls"] == []
    assert user["execution_id"] is None
    assert set(user) >= {"id", "conversation_id", "created_at"}


async def test_messages_are_paginated(
    client: httpx.AsyncClient, me: SignedInUser, agent: Agent, build: Builder
) -> None:
    conversation = await build.conversation(agent=agent)
    other = await build.conversation(agent=agent)
    for n in range(5):
        await build.message(conversation=conversation, content=f"m{n}")
    await build.message(conversation=other, content="elsewhere")

    response = await client.get(
        f"{CONVERSATIONS}/{conversation.id}/messages",
        params={"skip": 1, "limit": 3},
        headers=me.headers,
    )

    body = response.json()
    assert (body["total"], body["skip"], body["limit"]) == (5, 1, 3)
    assert [m["content"] for m in body["items"]] == ["m1", "m2", "m3"]


async def test_unknown_conversation_is_404(client: httpx.AsyncClient, me: SignedInUser) -> None:
    response = await client.get(f"{CONVERSATIONS}/{uuid.uuid4()}/messages", headers=me.headers)

    assert response.status_code == 404
    assert response.json() == {"detail": "Conversation not found"}


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("GET", "/{id}", None),
        ("PATCH", "/{id}", {"title": "Taken over"}),
        ("DELETE", "/{id}", None),
        ("GET", "/{id}/messages", None),
    ],
)
async def test_another_users_conversation_is_404(
    client: httpx.AsyncClient,
    stranger: SignedInUser,
    agent: Agent,
    build: Builder,
    method: str,
    path: str,
    payload: dict[str, Any] | None,
) -> None:
    conversation = await build.conversation(agent=agent, title="Mine")
    await build.message(conversation=conversation)

    response = await client.request(
        method,
        CONVERSATIONS + path.format(id=conversation.id),
        json=payload,
        headers=stranger.headers,
    )

    assert response.status_code == 404
    assert response.json() == {"detail": "Conversation not found"}
    stored = await build.fetch_conversation(conversation.id)
    assert stored is not None
    assert stored.title == "Mine"


async def test_lists_show_only_ones_own_conversations(
    client: httpx.AsyncClient,
    me: SignedInUser,
    stranger: SignedInUser,
    agent: Agent,
    build: Builder,
) -> None:
    await build.conversation(agent=agent, title="Mine")
    await build.conversation(agent=await build.agent(owner_id=stranger.id), title="Theirs")

    mine = (await client.get(CONVERSATIONS, headers=me.headers)).json()
    filtered = (
        await client.get(
            CONVERSATIONS, params={"agent_id": str(agent.id)}, headers=stranger.headers
        )
    ).json()

    assert [c["title"] for c in mine["items"]] == ["Mine"]
    assert mine["total"] == 1
    assert filtered == {"items": [], "total": 0, "skip": 0, "limit": 20}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", ""),
        ("POST", ""),
        ("GET", "/{id}"),
        ("PATCH", "/{id}"),
        ("DELETE", "/{id}"),
        ("GET", "/{id}/messages"),
    ],
)
async def test_conversation_routes_require_a_token(
    client: httpx.AsyncClient, agent: Agent, build: Builder, method: str, path: str
) -> None:
    conversation = await build.conversation(agent=agent)
    payload = {"agent_id": str(agent.id), "title": "x"} if method in ("POST", "PATCH") else None

    response = await client.request(
        method, CONVERSATIONS + path.format(id=conversation.id), json=payload
    )

    assert response.status_code == 401
    assert await build.fetch_conversation(conversation.id) is not None


@pytest.mark.parametrize(
    "change",
    [
        {"agent_id": "not-a-uuid"},
        {"agent_id": None},
        {"title": ""},
        {"title": "   "},
        {"title": "t" * 201},
        {"title": "nul\x00"},
        {"metadata": "not an object"},
        {"metadata": ["a"]},
        {"metadata": {"nul": "\x00"}},
        {"metadata": {"\x00": 1}},
        {"metadata": {"deep": [{"nul": "a\x00b"}]}},
        {"metadata": {"big": "x" * 20_000}},
        {"metadata": {"deep": _nested(40)}},
    ],
)
async def test_create_conversation_rejects_bad_fields(
    client: httpx.AsyncClient, me: SignedInUser, agent: Agent, change: dict[str, Any]
) -> None:
    payload = {"agent_id": str(agent.id)} | change

    response = await client.post(CONVERSATIONS, json=payload, headers=me.headers)

    assert response.status_code == 422, response.text


async def test_create_conversation_requires_an_agent(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    response = await client.post(CONVERSATIONS, json={"title": "x"}, headers=me.headers)

    assert response.status_code == 422


@pytest.mark.parametrize("value", [b"NaN", b"Infinity", b"-Infinity", b'"\\udc00"'])
async def test_metadata_must_be_storable_json(
    client: httpx.AsyncClient, me: SignedInUser, agent: Agent, value: bytes
) -> None:
    body = b'{"agent_id": "%s", "metadata": {"x": %s}}' % (str(agent.id).encode(), value)
    headers = me.headers | {"Content-Type": "application/json"}

    response = await client.post(CONVERSATIONS, content=body, headers=headers)

    assert response.status_code == 422


@pytest.mark.parametrize(
    "change",
    [{"title": None}, {"title": ""}, {"metadata": None}, {"metadata": 3}],
)
async def test_update_conversation_rejects_bad_fields(
    client: httpx.AsyncClient,
    me: SignedInUser,
    agent: Agent,
    build: Builder,
    change: dict[str, Any],
) -> None:
    conversation = await build.conversation(agent=agent, title="Kept")

    response = await client.patch(
        f"{CONVERSATIONS}/{conversation.id}", json=change, headers=me.headers
    )

    assert response.status_code == 422, response.text
    stored = await build.fetch_conversation(conversation.id)
    assert stored is not None
    assert stored.title == "Kept"


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("", {"limit": 0}),
        ("", {"limit": 101}),
        ("", {"skip": -1}),
        ("", {"agent_id": "nope"}),
        ("", {"q": "x" * 101}),
        ("", {"q": "\x00"}),
        ("/{id}/messages", {"limit": 0}),
        ("/{id}/messages", {"limit": 101}),
        ("/{id}/messages", {"skip": -1}),
    ],
)
async def test_list_routes_reject_bad_parameters(
    client: httpx.AsyncClient,
    me: SignedInUser,
    agent: Agent,
    build: Builder,
    path: str,
    params: dict[str, Any],
) -> None:
    conversation = await build.conversation(agent=agent)

    response = await client.get(
        CONVERSATIONS + path.format(id=conversation.id), params=params, headers=me.headers
    )

    assert response.status_code == 422


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", ""), ("PATCH", ""), ("DELETE", ""), ("GET", "/messages")],
)
async def test_malformed_conversation_id_is_422(
    client: httpx.AsyncClient, me: SignedInUser, method: str, path: str
) -> None:
    response = await client.request(
        method,
        f"{CONVERSATIONS}/12345{path}",
        json={} if method == "PATCH" else None,
        headers=me.headers,
    )

    assert response.status_code == 422
