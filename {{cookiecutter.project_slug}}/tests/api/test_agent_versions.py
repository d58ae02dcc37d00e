"""Agent versions: recorded on behaviour changes, readable, restorable, kept per run."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.factories import SignedInUser
from tests.support.runs import create_agent, execute

AGENTS = "/api/v1/agents"


async def _versions(client: httpx.AsyncClient, me: SignedInUser, agent_id: str) -> list[Any]:
    response = await client.get(f"{AGENTS}/{agent_id}/versions", headers=me.headers)
    assert response.status_code == 200, response.text
    items: list[Any] = response.json()["items"]
    return items


async def test_a_new_agent_has_version_one_with_its_settings(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    agent = await create_agent(client, me.headers, tools=["calculator"], temperature=0.2)

    versions = await _versions(client, me, agent["id"])

    assert [v["version"] for v in versions] == [1]
    assert versions[0]["settings"] == {
        "system_prompt": "You are helpful.",
        "provider": "scripted",
        "model": "scripted",
        "temperature": 0.2,
        "max_tokens": 1024,
        "tools": ["calculator"],
        "guardrails": [],
        "knowledge_base_ids": [],
    }
    assert versions[0]["rolled_back_from"] is None


@pytest.mark.parametrize(
    "change",
    [
        {"system_prompt": "Be terse."},
        {"model": "scripted-echo"},
        {"temperature": 1.5},
        {"max_tokens": 64},
        {"tools": ["current_time"]},
        {
            "guardrails": [
                {"type": "max_length", "action": "block", "stages": ["input"], "max_chars": 100}
            ]
        },
    ],
)
async def test_each_behaviour_change_records_a_version(
    client: httpx.AsyncClient, me: SignedInUser, change: dict[str, Any]
) -> None:
    agent = await create_agent(client, me.headers)

    await client.patch(f"{AGENTS}/{agent['id']}", json=change, headers=me.headers)

    versions = await _versions(client, me, agent["id"])
    assert [v["version"] for v in versions] == [2, 1]
    for key, value in change.items():
        assert versions[0]["settings"][key] == value
        assert versions[1]["settings"][key] == agent[key]


@pytest.mark.parametrize(
    "change", [{"name": "renamed"}, {"description": "Now described"}, {"is_active": False}]
)
async def test_cosmetic_changes_record_no_version(
    client: httpx.AsyncClient, me: SignedInUser, change: dict[str, Any]
) -> None:
    agent = await create_agent(client, me.headers)

    response = await client.patch(f"{AGENTS}/{agent['id']}", json=change, headers=me.headers)

    assert response.json()["version"] == 1
    assert [v["version"] for v in await _versions(client, me, agent["id"])] == [1]


async def test_one_version_reads_back_unchanged_after_later_edits(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    agent = await create_agent(client, me.headers, system_prompt="First prompt.")
    url = f"{AGENTS}/{agent['id']}"
    await client.patch(url, json={"system_prompt": "Second prompt."}, headers=me.headers)
    await client.patch(url, json={"system_prompt": "Third prompt."}, headers=me.headers)

    first = await client.get(f"{url}/versions/1", headers=me.headers)
    second = await client.get(f"{url}/versions/2", headers=me.headers)
    missing = await client.get(f"{url}/versions/9", headers=me.headers)

    assert first.json()["settings"]["system_prompt"] == "First prompt."
    assert second.json()["settings"]["system_prompt"] == "Second prompt."
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Agent version 9 not found"}


async def test_rollback_makes_a_new_version_equal_to_the_old_one(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    agent = await create_agent(client, me.headers, system_prompt="Original.", temperature=0.3)
    url = f"{AGENTS}/{agent['id']}"
    await client.patch(
        url,
        json={"system_prompt": "Worse.", "temperature": 1.9, "name": "kept"},
        headers=me.headers,
    )

    response = await client.post(f"{url}/rollback", json={"version": 1}, headers=me.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["version"] == 3
    assert (body["system_prompt"], body["temperature"], body["name"]) == ("Original.", 0.3, "kept")
    versions = await _versions(client, me, agent["id"])
    assert [v["version"] for v in versions] == [3, 2, 1]
    assert versions[0]["settings"] == versions[2]["settings"]
    assert versions[0]["rolled_back_from"] == 1
    assert (await client.get(url, headers=me.headers)).json()["system_prompt"] == "Original."


async def test_rollback_to_a_missing_version_is_not_found(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    agent = await create_agent(client, me.headers)
    url = f"{AGENTS}/{agent['id']}/rollback"

    missing = await client.post(url, json={"version": 5}, headers=me.headers)
    invalid = await client.post(url, json={"version": 0}, headers=me.headers)

    assert missing.status_code == 404
    assert invalid.status_code == 422
    assert (await client.get(f"{AGENTS}/{agent['id']}", headers=me.headers)).json()["version"] == 1


async def test_executions_keep_the_version_they_ran(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    agent = await create_agent(client, me.headers)
    first = (await execute(client, me.headers, agent["id"], "one")).json()
    await client.patch(
        f"{AGENTS}/{agent['id']}", json={"system_prompt": "Changed."}, headers=me.headers
    )
    second = (await execute(client, me.headers, agent["id"], "two")).json()

    stored = await client.get(f"/api/v1/executions/{first['id']}", headers=me.headers)

    assert (first["agent_version"], second["agent_version"]) == (1, 2)
    assert stored.json()["agent_version"] == 1


async def test_another_users_versions_are_not_found(
    client: httpx.AsyncClient, me: SignedInUser, stranger: SignedInUser
) -> None:
    agent = await create_agent(client, me.headers)
    url = f"{AGENTS}/{agent['id']}"

    listed = await client.get(f"{url}/versions", headers=stranger.headers)
    one = await client.get(f"{url}/versions/1", headers=stranger.headers)
    rolled = await client.post(f"{url}/rollback", json={"version": 1}, headers=stranger.headers)

    assert [listed.status_code, one.status_code, rolled.status_code] == [404, 404, 404]
    assert [v["version"] for v in await _versions(client, me, agent["id"])] == [1]
