"""Agents linked to knowledge bases: only the owner's bases, searched by `search_knowledge`."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.support.factories import SignedInUser
from tests.support.knowledge import BASES, create_base, indexed
from tests.support.runs import create_agent, execute, messages_of, parse_sse

LEAVE = b"# Leave\nEmployees get twenty-five days of paid leave a year."
PARKING = b"# Parking\nParking permits for the staff car park are issued by reception."
ASK = '!tool search_knowledge {"query": "how many days of paid leave?"}'


async def _search_results(
    client: httpx.AsyncClient, headers: dict[str, str], agent_id: str, message: str = ASK
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The run, and the search_knowledge results the agent received."""
    execution = (await execute(client, headers, agent_id, message)).json()
    assert execution["status"] == "completed", execution
    messages = await messages_of(client, headers, execution["conversation_id"])
    [tool] = [m for m in messages if m["role"] == "tool"]
    return execution, json.loads(tool["content"])["results"]


async def test_an_agent_reads_back_its_linked_bases(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    base = await create_base(client, me.headers)

    agent = await create_agent(client, me.headers, knowledge_base_ids=[base["id"]])
    fetched = await client.get(f"/api/v1/agents/{agent['id']}", headers=me.headers)

    assert agent["knowledge_base_ids"] == [base["id"]]
    assert fetched.json()["knowledge_base_ids"] == [base["id"]]


async def test_relinking_bumps_the_version_and_unlinking_empties_the_list(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    first = await create_base(client, me.headers, "first")
    second = await create_base(client, me.headers, "second")
    agent = await create_agent(client, me.headers, knowledge_base_ids=[first["id"]])
    url = f"/api/v1/agents/{agent['id']}"

    relinked = await client.patch(
        url, json={"knowledge_base_ids": [second["id"]]}, headers=me.headers
    )
    same = await client.patch(url, json={"knowledge_base_ids": [second["id"]]}, headers=me.headers)
    unlinked = await client.patch(url, json={"knowledge_base_ids": []}, headers=me.headers)

    assert relinked.json()["knowledge_base_ids"] == [second["id"]]
    assert relinked.json()["version"] == agent["version"] + 1
    assert same.json()["version"] == relinked.json()["version"]
    assert unlinked.json()["knowledge_base_ids"] == []


async def test_another_users_base_cannot_be_linked(
    client: httpx.AsyncClient, me: SignedInUser, stranger: SignedInUser
) -> None:
    mine = await create_base(client, me.headers)
    agent = await create_agent(client, stranger.headers)

    created = await client.post(
        "/api/v1/agents",
        json={"name": "thief", "provider": "scripted", "knowledge_base_ids": [mine["id"]]},
        headers=stranger.headers,
    )
    patched = await client.patch(
        f"/api/v1/agents/{agent['id']}",
        json={"knowledge_base_ids": [mine["id"]]},
        headers=stranger.headers,
    )
    listed = await client.get("/api/v1/agents", headers=stranger.headers)

    assert created.status_code == 404
    assert patched.status_code == 404
    assert [item["knowledge_base_ids"] for item in listed.json()["items"]] == [[]]


async def test_a_base_linked_twice_is_refused(client: httpx.AsyncClient, me: SignedInUser) -> None:
    base = await create_base(client, me.headers)

    response = await client.post(
        "/api/v1/agents",
        json={"name": "twice", "provider": "scripted", "knowledge_base_ids": [base["id"]] * 2},
        headers=me.headers,
    )

    assert response.status_code == 422


async def test_search_knowledge_answers_from_linked_bases_with_chunk_ids_and_sources(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    linked = await create_base(client, me.headers, "handbook")
    unlinked = await create_base(client, me.headers, "other")
    leave = await indexed(client, me.headers, linked["id"], LEAVE, name="leave.md")
    await indexed(client, me.headers, unlinked["id"], LEAVE + b"\nSee the wiki.", name="wiki.md")
    agent = await create_agent(
        client, me.headers, tools=["search_knowledge"], knowledge_base_ids=[linked["id"]]
    )

    execution, results = await _search_results(client, me.headers, agent["id"])

    assert [result["source"] for result in results] == ["leave.md"]
    assert "twenty-five days" in results[0]["text"]
    found = await client.post(
        f"{BASES}/{linked['id']}/search", json={"query": "paid leave"}, headers=me.headers
    )
    assert results[0]["chunk_id"] == found.json()["results"][0]["chunk_id"]
    assert found.json()["results"][0]["document_id"] == leave["id"]
    assert "search_knowledge ->" in execution["output"]


async def test_search_knowledge_never_reaches_another_users_documents(
    client: httpx.AsyncClient, me: SignedInUser, stranger: SignedInUser
) -> None:
    mine = await create_base(client, me.headers)
    await indexed(client, me.headers, mine["id"], LEAVE, name="leave.md")
    theirs = await create_base(client, stranger.headers)
    await indexed(client, stranger.headers, theirs["id"], PARKING, name="parking.md")
    agent = await create_agent(
        client, stranger.headers, tools=["search_knowledge"], knowledge_base_ids=[theirs["id"]]
    )

    _, results = await _search_results(client, stranger.headers, agent["id"])

    assert {result["source"] for result in results} == {"parking.md"}


async def test_deleting_a_base_unlinks_it_and_the_tool_says_there_is_nothing_to_search(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    base = await create_base(client, me.headers)
    agent = await create_agent(
        client, me.headers, tools=["search_knowledge"], knowledge_base_ids=[base["id"]]
    )

    await client.delete(f"{BASES}/{base['id']}", headers=me.headers)
    fetched = await client.get(f"/api/v1/agents/{agent['id']}", headers=me.headers)
    execution = (await execute(client, me.headers, agent["id"], ASK)).json()

    assert fetched.json()["knowledge_base_ids"] == []
    assert "no knowledge bases linked" in execution["output"]


async def test_the_runs_events_show_the_cited_chunk_ids(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    base = await create_base(client, me.headers)
    await indexed(client, me.headers, base["id"], LEAVE, name="leave.md")
    agent = await create_agent(
        client, me.headers, tools=["search_knowledge"], knowledge_base_ids=[base["id"]]
    )

    response = await execute(client, me.headers, agent["id"], ASK, stream=True)

    [result] = [data for name, data in parse_sse(response.text) if name == "tool.result"]
    assert result["name"] == "search_knowledge"
    [hit] = json.loads(result["content"])["results"]
    assert hit["source"] == "leave.md"
    assert isinstance(hit["chunk_id"], int)
