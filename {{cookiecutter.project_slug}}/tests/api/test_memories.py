"""Agents remember and recall through tools; the user sees and erases what they keep."""

from __future__ import annotations

import json

import httpx

from app.models import Memory
from tests.support.builders import Builder
from tests.support.factories import SignedInUser
from tests.support.runs import create_agent, execute, messages_of

REMEMBER = '!tool remember {"fact": "The user prefers answers in metric units."}'
RECALL = '!tool recall {"query": "which units does the user like?"}'


async def _tool_output(
    client: httpx.AsyncClient, headers: dict[str, str], agent_id: str, message: str
) -> dict[str, object]:
    execution = (await execute(client, headers, agent_id, message)).json()
    assert execution["status"] == "completed", execution
    messages = await messages_of(client, headers, execution["conversation_id"])
    [tool] = [m for m in messages if m["role"] == "tool"]
    result: dict[str, object] = json.loads(tool["content"])
    return result


async def _agent_that_remembers(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    agent = await create_agent(client, headers, tools=["remember", "recall"])
    remembered = await _tool_output(client, headers, agent["id"], REMEMBER)
    assert remembered["status"] == "remembered"
    return str(agent["id"])


async def test_a_fact_remembered_in_one_conversation_is_recalled_in_the_next(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    agent_id = await _agent_that_remembers(client, me.headers)

    recalled = await _tool_output(client, me.headers, agent_id, RECALL)

    memories = recalled["memories"]
    assert isinstance(memories, list)
    assert memories[0]["text"] == "The user prefers answers in metric units."


async def test_remembering_the_same_fact_twice_keeps_one_memory(
    client: httpx.AsyncClient, me: SignedInUser, build: Builder
) -> None:
    agent_id = await _agent_that_remembers(client, me.headers)

    again = await _tool_output(client, me.headers, agent_id, REMEMBER)

    assert again["status"] == "updated an existing memory"
    assert await build.count(Memory) == 1


async def test_the_user_lists_and_erases_one_memory(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    agent_id = await _agent_that_remembers(client, me.headers)

    listed = (await client.get("/api/v1/memories", headers=me.headers)).json()
    [memory] = listed["items"]
    erased = await client.delete(f"/api/v1/memories/{memory['id']}", headers=me.headers)
    recalled = await _tool_output(client, me.headers, agent_id, RECALL)

    assert memory["agent_id"] == agent_id
    assert memory["text"] == "The user prefers answers in metric units."
    assert erased.status_code == 204
    assert recalled["memories"] == []


async def test_erasing_everything_leaves_other_users_memories(
    client: httpx.AsyncClient, me: SignedInUser, stranger: SignedInUser
) -> None:
    await _agent_that_remembers(client, me.headers)
    await _agent_that_remembers(client, stranger.headers)

    erased = await client.delete("/api/v1/memories", headers=me.headers)
    mine = (await client.get("/api/v1/memories", headers=me.headers)).json()
    theirs = (await client.get("/api/v1/memories", headers=stranger.headers)).json()

    assert erased.status_code == 204
    assert mine["total"] == 0
    assert theirs["total"] == 1


async def test_another_user_neither_sees_nor_erases_my_memories(
    client: httpx.AsyncClient, me: SignedInUser, stranger: SignedInUser
) -> None:
    agent_id = await _agent_that_remembers(client, me.headers)
    [memory] = (await client.get("/api/v1/memories", headers=me.headers)).json()["items"]

    seen = await client.get(
        "/api/v1/memories", params={"agent_id": agent_id}, headers=stranger.headers
    )
    erased = await client.delete(f"/api/v1/memories/{memory['id']}", headers=stranger.headers)
    erased_all = await client.delete(
        "/api/v1/memories", params={"agent_id": agent_id}, headers=stranger.headers
    )

    assert seen.json()["total"] == 0
    assert erased.status_code == 404
    assert erased_all.status_code == 204
    assert (await client.get("/api/v1/memories", headers=me.headers)).json()["total"] == 1
