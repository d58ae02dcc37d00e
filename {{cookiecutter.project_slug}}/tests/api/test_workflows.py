"""Workflows over the API: created, listed, changed and refused with the step and rule."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from app.models import Agent
from tests.support.builders import Builder
from tests.support.factories import SignedInUser
from tests.support.workflows import API, run_when, start_run


def _steps(agent_id: uuid.UUID, **first: Any) -> list[dict[str, Any]]:
    return [{"id": "answer", "type": "agent", "agent_id": str(agent_id)} | first]


async def test_a_workflow_is_created_read_listed_updated_and_deleted(
    client: httpx.AsyncClient, me: SignedInUser, agent: Agent
) -> None:
    created = await client.post(
        f"{API}/workflows",
        json={"name": "one step", "steps": _steps(agent.id)},
        headers=me.headers,
    )
    assert created.status_code == 201, created.text
    workflow = created.json()
    assert workflow["version"] == 1
    assert workflow["steps"][0]["input"] == "${input}"
    url = f"{API}/workflows/{workflow['id']}"

    listed = await client.get(f"{API}/workflows", headers=me.headers)
    assert [w["id"] for w in listed.json()["items"]] == [workflow["id"]]
    renamed = await client.patch(url, json={"name": "renamed"}, headers=me.headers)
    assert renamed.json()["version"] == 1
    changed = await client.patch(
        url, json={"steps": _steps(agent.id, input="Say: ${input}")}, headers=me.headers
    )
    assert changed.json()["version"] == 2
    assert (await client.delete(url, headers=me.headers)).status_code == 204
    assert (await client.get(url, headers=me.headers)).status_code == 404


async def test_a_broken_workflow_is_a_422_naming_the_step_and_the_rule(
    client: httpx.AsyncClient, me: SignedInUser, agent: Agent
) -> None:
    steps = [*_steps(agent.id, next="review"), {"id": "review", "type": "approval"}]
    steps[0]["input"] = "${input} and ${nobody}"
    response = await client.post(
        f"{API}/workflows", json={"name": "bad", "steps": steps}, headers=me.headers
    )
    assert response.status_code == 422
    (problem,) = response.json()["detail"]
    assert problem["loc"] == ["body", "steps", 0]
    assert problem["type"] == "workflow_unknown_variable"
    assert "Step 'answer'" in problem["msg"]
    assert "${nobody}" in problem["msg"]


async def test_another_users_agent_cannot_be_a_step(
    client: httpx.AsyncClient, me: SignedInUser, stranger: SignedInUser, build: Builder
) -> None:
    theirs = await build.agent(owner_id=stranger.id)
    response = await client.post(
        f"{API}/workflows", json={"name": "x", "steps": _steps(theirs.id)}, headers=me.headers
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "workflow_agent_not_found"


async def test_an_update_is_validated_as_a_whole(
    client: httpx.AsyncClient, me: SignedInUser, agent: Agent
) -> None:
    created = await client.post(
        f"{API}/workflows", json={"name": "x", "steps": _steps(agent.id)}, headers=me.headers
    )
    loop = [*_steps(agent.id, next="again"), {"id": "again", "type": "approval", "next": "answer"}]
    response = await client.patch(
        f"{API}/workflows/{created.json()['id']}", json={"steps": loop}, headers=me.headers
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "workflow_unbounded_cycle"


async def test_a_malformed_step_is_a_plain_422(
    client: httpx.AsyncClient, me: SignedInUser, agent: Agent
) -> None:
    response = await client.post(
        f"{API}/workflows",
        json={"name": "x", "steps": [{"id": "Bad Id", "type": "agent", "agent_id": str(agent.id)}]},
        headers=me.headers,
    )
    assert response.status_code == 422
    response = await client.post(
        f"{API}/workflows",
        json={"name": "x", "steps": [{"id": "a", "type": "teleport"}]},
        headers=me.headers,
    )
    assert response.status_code == 422


async def test_parallel_steps_run_together_and_their_join_feeds_the_next(
    client: httpx.AsyncClient, me: SignedInUser, build: Builder
) -> None:
    agent = await build.agent(owner_id=me.id)
    steps = [
        {"id": "fan", "type": "parallel", "branches": ["pros", "cons"], "next": "verdict"},
        {"id": "pros", "type": "agent", "agent_id": str(agent.id), "input": "Pros of ${input}"},
        {"id": "cons", "type": "agent", "agent_id": str(agent.id), "input": "Cons of ${input}"},
        {"id": "verdict", "type": "agent", "agent_id": str(agent.id), "input": "Weigh:\n${fan}"},
    ]
    created = await client.post(
        f"{API}/workflows", json={"name": "weigh", "steps": steps}, headers=me.headers
    )
    assert created.status_code == 201, created.text
    run_id = await start_run(client, me.headers, created.json()["id"], "tea")
    done = await run_when(client, me.headers, run_id, "completed")

    by_step = {record["step_id"]: record for record in done["steps"]}
    assert by_step["pros"]["output"] == "[scripted] Pros of tea"
    assert by_step["cons"]["output"] == "[scripted] Cons of tea"
    assert by_step["fan"]["output"] == (
        "## pros\n[scripted] Pros of tea\n\n## cons\n[scripted] Cons of tea"
    )
    assert done["output"].startswith("[scripted] Weigh:\n## pros")


async def test_an_approval_nobody_decides_in_time_decides_as_configured(
    client: httpx.AsyncClient, me: SignedInUser, agent: Agent
) -> None:
    def flow(on_timeout: str) -> list[dict[str, Any]]:
        return [
            *_steps(agent.id, next="wait"),
            {"id": "wait", "type": "approval", "timeout_seconds": 0.3, "on_timeout": on_timeout},
        ]

    outcomes = {}
    for on_timeout in ("approve", "reject", "fail"):
        created = await client.post(
            f"{API}/workflows",
            json={"name": on_timeout, "steps": flow(on_timeout)},
            headers=me.headers,
        )
        run_id = await start_run(client, me.headers, created.json()["id"], "hi")
        expected = "completed" if on_timeout == "approve" else "failed"
        outcomes[on_timeout] = await run_when(client, me.headers, run_id, expected)

    assert outcomes["approve"]["output"] == "[scripted] hi"
    assert outcomes["reject"]["error_type"] == "rejected"
    assert outcomes["fail"]["error_type"] == "approval_timeout"
    waits = [o["steps"][-1] for o in outcomes.values()]
    assert [w["status"] for w in waits] == ["approved", "rejected", "rejected"]
    assert all(w["decided_by"] is None for w in waits)
