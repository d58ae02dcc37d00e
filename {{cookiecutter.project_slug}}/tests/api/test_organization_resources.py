"""Knowledge bases, MCP connections and memories belong to the organisation they were made in."""

from __future__ import annotations

import uuid

import httpx

from app.ai.knowledge.embedders.hashing import HashingEmbedder
from app.ai.memory import store
from app.db.session import Database
from tests.support.factories import SignedInUser, UserFactory
from tests.support.knowledge import BASES, create_base, indexed, upload
from tests.support.organizations import make_team

CONNECTIONS = "/api/v1/mcp-connections"
MEMORIES = "/api/v1/memories"
HANDBOOK = b"# Leave\n\nStaff get twenty-five paid leave days a year."


async def test_a_teams_knowledge_base_is_shared_in_the_team_and_missing_elsewhere(
    client: httpx.AsyncClient, users: UserFactory, me: SignedInUser
) -> None:
    team = await make_team(client, users, me, "member")
    base = await create_base(client, team.headers("owner"))
    document = await indexed(client, team.headers("owner"), base["id"], HANDBOOK)
    path = f"{BASES}/{base['id']}"

    assert base["organization_id"] == str(team.id)
    shared = await client.post(
        f"{path}/search", json={"query": "paid leave"}, headers=team.headers("member")
    )
    assert shared.status_code == 200, shared.text
    assert shared.json()["results"][0]["document_id"] == document["id"]
    # The owner is in both: in their personal workspace the team's base does not exist.
    assert (await client.get(path, headers=me.headers)).status_code == 404
    assert (
        await client.get(f"{path}/documents/{document['id']}", headers=me.headers)
    ).status_code == 404
    assert (await client.get(BASES, headers=me.headers)).json()["items"] == []
    assert (await client.delete(path, headers=me.headers)).status_code == 404
    assert (await client.get(path, headers=team.headers("owner"))).status_code == 200


async def test_a_viewer_reads_and_searches_knowledge_but_may_not_change_it(
    client: httpx.AsyncClient, users: UserFactory, me: SignedInUser
) -> None:
    team = await make_team(client, users, me, "viewer")
    viewer = team.headers("viewer")
    base = await create_base(client, team.headers("owner"))
    path = f"{BASES}/{base['id']}"

    assert (await client.get(path, headers=viewer)).status_code == 200
    searched = await client.post(f"{path}/search", json={"query": "leave"}, headers=viewer)
    assert searched.status_code == 200
    refused = [
        await client.post(BASES, json={"name": "mine"}, headers=viewer),
        await client.patch(path, json={"name": "renamed"}, headers=viewer),
        await upload(client, viewer, base["id"], HANDBOOK),
        await client.delete(path, headers=viewer),
        # Refused before any lookup: a missing base is a 403 too, not a 404.
        await client.delete(f"{BASES}/{uuid.uuid4()}", headers=viewer),
    ]
    assert [response.status_code for response in refused] == [403] * len(refused)
    assert (await client.get(path, headers=viewer)).json()["name"] == base["name"]


async def test_connection_names_repeat_across_organisations_but_not_within_one(
    client: httpx.AsyncClient, users: UserFactory, me: SignedInUser
) -> None:
    team = await make_team(client, users, me, "member", "viewer")
    body = {"name": "tools", "url": "http://127.0.0.1:9/mcp"}

    personal = await client.post(CONNECTIONS, json=body, headers=me.headers)
    shared = await client.post(CONNECTIONS, json=body, headers=team.headers("member"))
    again = await client.post(CONNECTIONS, json=body, headers=team.headers("owner"))
    by_viewer = await client.post(
        CONNECTIONS, json=body | {"name": "other"}, headers=team.headers("viewer")
    )

    assert (personal.status_code, shared.status_code) == (201, 201)
    assert shared.json()["organization_id"] == str(team.id)
    assert again.status_code == 409
    assert by_viewer.status_code == 403
    listed = await client.get(CONNECTIONS, headers=team.headers("viewer"))
    assert [c["id"] for c in listed.json()["items"]] == [shared.json()["id"]]
    mine = await client.get(CONNECTIONS, headers=me.headers)
    assert [c["id"] for c in mine.json()["items"]] == [personal.json()["id"]]
    team_connection = f"{CONNECTIONS}/{shared.json()['id']}"
    assert (await client.get(team_connection, headers=me.headers)).status_code == 404


async def test_a_teammates_memories_are_not_visible(
    client: httpx.AsyncClient, users: UserFactory, me: SignedInUser, database: Database
) -> None:
    team = await make_team(client, users, me, "member")
    async with database.transaction() as session:
        memory, _ = await store.remember(
            session,
            HashingEmbedder(),
            owner=store.MemoryOwner(organization_id=team.id, user_id=me.id),
            agent_id=None,
            text="Prefers tea.",
            policy=store.MemoryPolicy(),
        )

    mine = await client.get(MEMORIES, headers=team.headers("owner"))
    teammates = await client.get(MEMORIES, headers=team.headers("member"))
    erased_by_teammate = await client.delete(
        f"{MEMORIES}/{memory.id}", headers=team.headers("member")
    )
    await client.delete(MEMORIES, headers=team.headers("member"))

    assert [m["id"] for m in mine.json()["items"]] == [str(memory.id)]
    assert teammates.json()["items"] == []
    assert erased_by_teammate.status_code == 404
    # Kept in the team: the owner's personal workspace has memories of its own.
    assert (await client.get(MEMORIES, headers=me.headers)).json()["items"] == []
    still = await client.get(MEMORIES, headers=team.headers("owner"))
    assert [m["id"] for m in still.json()["items"]] == [str(memory.id)]
