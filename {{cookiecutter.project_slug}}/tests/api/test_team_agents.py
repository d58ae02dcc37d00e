"""Agents, conversations and runs shared in an organisation: members run, viewers read."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.support.factories import SignedInUser, UserFactory
from tests.support.organizations import make_team
from tests.support.runs import create_agent, execute, messages_of, parse_sse

AGENTS = "/api/v1/agents"


async def _listed(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> list[Any]:
    response = await client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    items: list[Any] = response.json()["items"]
    return items


async def test_a_member_runs_the_teams_agent_and_the_team_reads_the_run(
    client: httpx.AsyncClient, users: UserFactory, me: SignedInUser
) -> None:
    team = await make_team(client, users, me, "member", "viewer")
    agent = await create_agent(client, team.headers("owner"), name="team-helper")

    run = await execute(client, team.headers("member"), agent["id"], "hello team")

    assert run.status_code == 200, run.text
    execution = run.json()
    assert execution["output"] == "[scripted] hello team"
    viewer = team.headers("viewer")
    assert [a["id"] for a in await _listed(client, AGENTS, viewer)] == [agent["id"]]
    assert [e["id"] for e in await _listed(client, "/api/v1/executions", viewer)] == [
        execution["id"]
    ]
    conversations = await _listed(client, "/api/v1/conversations", viewer)
    assert [c["id"] for c in conversations] == [execution["conversation_id"]]
    messages = await messages_of(client, viewer, execution["conversation_id"])
    assert [m["content"] for m in messages] == ["hello team", "[scripted] hello team"]
    events = await client.get(f"/api/v1/executions/{execution['id']}/events", headers=viewer)
    assert parse_sse(events.text)[-1][0] == "execution.completed"
    # Their personal workspaces, the default without the header, hold none of it.
    member = team.members["member"]
    assert await _listed(client, AGENTS, member.headers) == []
    assert await _listed(client, "/api/v1/executions", member.headers) == []


async def test_a_viewer_reads_but_cannot_create_change_or_run(
    client: httpx.AsyncClient, users: UserFactory, me: SignedInUser
) -> None:
    team = await make_team(client, users, me, "viewer")
    agent = await create_agent(client, team.headers("owner"))
    run = (await execute(client, team.headers("owner"), agent["id"], "hi")).json()
    viewer = team.headers("viewer")

    refused = {
        "create agent": await client.post(
            AGENTS, json={"name": "mine", "provider": "scripted"}, headers=viewer
        ),
        "update agent": await client.patch(
            f"{AGENTS}/{agent['id']}", json={"name": "renamed"}, headers=viewer
        ),
        "delete agent": await client.delete(f"{AGENTS}/{agent['id']}", headers=viewer),
        "execute": await execute(client, viewer, agent["id"], "hi"),
        "start conversation": await client.post(
            "/api/v1/conversations", json={"agent_id": agent["id"]}, headers=viewer
        ),
        "cancel": await client.post(f"/api/v1/executions/{run['id']}/cancel", headers=viewer),
        "run a tool": await client.post(
            "/api/v1/tools/calculator/execute",
            json={"arguments": {"expression": "1+1"}},
            headers=viewer,
        ),
        "chat completion": await client.post(
            "/v1/chat/completions",
            json={"model": agent["name"], "messages": [{"role": "user", "content": "hi"}]},
            headers=viewer,
        ),
        # Refused before any lookup: an id that exists nowhere is a 403 too, not a 404.
        "execute a missing agent": await execute(client, viewer, str(uuid.uuid4()), "hi"),
    }
    read = {
        "agent": await client.get(f"{AGENTS}/{agent['id']}", headers=viewer),
        "versions": await client.get(f"{AGENTS}/{agent['id']}/versions", headers=viewer),
        "execution": await client.get(f"/api/v1/executions/{run['id']}", headers=viewer),
        "conversation": await client.get(
            f"/api/v1/conversations/{run['conversation_id']}", headers=viewer
        ),
        "models": await client.get("/v1/models", headers=viewer),
    }

    assert {what: r.status_code for what, r in refused.items()} == dict.fromkeys(refused, 403)
    assert "viewer" in refused["execute"].json()["detail"]
    assert {what: r.status_code for what, r in read.items()} == dict.fromkeys(read, 200)
    unchanged = await client.get(f"{AGENTS}/{agent['id']}", headers=team.headers("owner"))
    assert unchanged.json()["name"] == agent["name"]


async def test_an_agent_name_is_unique_per_organization(
    client: httpx.AsyncClient, users: UserFactory, me: SignedInUser
) -> None:
    team = await make_team(client, users, me)
    mine = await create_agent(client, me.headers, name="helper")

    theirs = await client.post(
        AGENTS, json={"name": "helper", "provider": "scripted"}, headers=team.headers("owner")
    )
    again = await client.post(
        AGENTS, json={"name": "helper", "provider": "scripted"}, headers=team.headers("owner")
    )

    assert theirs.status_code == 201, theirs.text
    assert theirs.json()["id"] != mine["id"]
    assert again.status_code == 409
    assert again.json() == {"detail": "This organization already has an agent named 'helper'"}


async def test_another_organizations_ids_are_404_even_for_a_member_of_both(
    client: httpx.AsyncClient, users: UserFactory, me: SignedInUser
) -> None:
    team = await make_team(client, users, me)
    agent = await create_agent(client, team.headers("owner"))
    run = (await execute(client, team.headers("owner"), agent["id"], "hi")).json()
    personal = me.headers

    answers = [
        await client.get(f"{AGENTS}/{agent['id']}", headers=personal),
        await client.patch(f"{AGENTS}/{agent['id']}", json={"name": "x"}, headers=personal),
        await execute(client, personal, agent["id"], "hi"),
        await client.post(
            "/api/v1/conversations", json={"agent_id": agent["id"]}, headers=personal
        ),
        await client.get(f"/api/v1/conversations/{run['conversation_id']}", headers=personal),
        await client.get(f"/api/v1/executions/{run['id']}", headers=personal),
        await client.get(f"/api/v1/executions/{run['id']}/events", headers=personal),
        await client.post(f"/api/v1/executions/{run['id']}/cancel", headers=personal),
    ]

    assert [answer.status_code for answer in answers] == [404] * len(answers)
    # A conversation of the team cannot be continued by a run of a personal agent either.
    own = await create_agent(client, personal, name="own")
    crossed = await execute(
        client, personal, own["id"], "hi", conversation_id=run["conversation_id"]
    )
    assert crossed.status_code == 404


async def test_openai_clients_pick_the_model_in_the_active_organization(
    client: httpx.AsyncClient, users: UserFactory, me: SignedInUser
) -> None:
    team = await make_team(client, users, me, "member")
    ours = await create_agent(client, team.headers("owner"), name="shared-bot")
    member = team.members["member"]
    body = {"model": "shared-bot", "messages": [{"role": "user", "content": "hi"}]}

    listed = await client.get("/v1/models", headers=team.headers("member"))
    in_team = await client.post("/v1/chat/completions", json=body, headers=team.headers("member"))
    in_personal = await client.post("/v1/chat/completions", json=body, headers=member.headers)

    assert [card["agent_id"] for card in listed.json()["data"]] == [ours["id"]]
    assert in_team.status_code == 200, in_team.text
    assert in_team.json()["choices"][0]["message"]["content"] == "[scripted] hi"
    runs = await _listed(client, "/api/v1/executions", team.headers("owner"))
    assert [run["agent_id"] for run in runs] == [ours["id"]]
    assert in_personal.status_code == 404
    assert in_personal.json()["error"]["type"] == "not_found_error"
