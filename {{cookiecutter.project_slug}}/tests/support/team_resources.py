"""One of each resource an organisation can hold, made through the API, for route matrices."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.knowledge import create_base, settled, upload
from tests.support.organizations import API, Team, invite
from tests.support.runs import create_agent, execute
from tests.support.workflows import run_when, start_run

REMEMBER = '!tool remember {"fact": "The team ships on Fridays."}'


async def _created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201, 202), response.text
    body: dict[str, Any] = response.json()
    return body


async def make_resources(client: httpx.AsyncClient, team: Team) -> dict[str, Any]:
    """One of each resource in the team, made by its owner acting there, by path parameter.

    Values for every path parameter of the API's routes: ids, and the numbers and names
    that go with them (an agent's first version, its name as an OpenAI model, the
    workflow step that waits for approval, a template and a tool of the catalogue).
    """
    owner = team.headers("owner")
    agent = await create_agent(client, owner, name="isolated", tools=["remember", "recall"])
    run = await execute(client, owner, agent["id"], REMEMBER)
    execution = await _created(run)
    assert execution["status"] == "completed", execution
    conversation = await _created(
        await client.post("/api/v1/conversations", json={"agent_id": agent["id"]}, headers=owner)
    )
    memories = (await client.get("/api/v1/memories", headers=owner)).json()["items"]
    base = await create_base(client, owner)
    document = await _created(await upload(client, owner, base["id"], b"# Leave\nTen days."))
    await settled(client, owner, base["id"], document["id"])
    connection = await _created(
        await client.post(
            "/api/v1/mcp-connections",
            json={"name": "tools", "url": "http://127.0.0.1:9/mcp"},
            headers=owner,
        )
    )
    steps = [
        {
            "id": "draft",
            "type": "agent",
            "agent_id": agent["id"],
            "input": "${input}",
            "next": "review",
        },
        {"id": "review", "type": "approval"},
    ]
    workflow = await _created(
        await client.post("/api/v1/workflows", json={"name": "flow", "steps": steps}, headers=owner)
    )
    workflow_run_id = await start_run(client, owner, workflow["id"], "hello")
    await run_when(client, owner, workflow_run_id, "waiting", waiting_at="review")
    key = await _created(
        await client.post("/api/v1/api-keys", json={"name": "ci"}, headers=team.owner.headers)
    )
    await invite(client, team.id, team.owner, "invitee@example.com", "member")
    templates = await client.get("/api/v1/agent-templates", headers=owner)
    invitations = await client.get(f"{API}/{team.id}/invitations", headers=team.owner.headers)
    return {
        "organization_id": team.id,
        "agent_id": agent["id"],
        "version": 1,
        "model": agent["name"],
        "conversation_id": conversation["id"],
        "execution_id": execution["id"],
        "memory_id": memories[0]["id"],
        "base_id": base["id"],
        "document_id": document["id"],
        "connection_id": connection["id"],
        "workflow_id": workflow["id"],
        "workflow_run_id": workflow_run_id,
        "step": "review",
        "key_id": key["id"],
        "invitation_id": invitations.json()["items"][0]["id"],
        "user_id": team.owner.id,
        "scope_kind": "organization",
        "scope_id": team.id,
        "template_name": templates.json()[0]["name"],
        "tool_name": "calculator",
    }


def value_for(path: str, name: str, values: dict[str, Any]) -> Any:
    """The value of path parameter `name` in `path`: `{name}` is a tool's or a template's."""
    if name == "name":
        return values["tool_name" if "/tools/" in path else "template_name"]
    return values[name]
