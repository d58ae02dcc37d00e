"""Agent templates over the API: listing, creating with overrides, and adding a file."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx

from app.core.config import Settings
from tests.support.factories import AppFactory, SignedInUser, client_for

TEMPLATES = "/api/v1/agent-templates"
FROM_TEMPLATE = "/api/v1/agents/from-template"
SCRIPTED = {"provider": "scripted", "model": "scripted"}


async def test_the_catalog_lists_the_shipped_templates(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    response = await client.get(TEMPLATES, headers=me.headers)

    assert response.status_code == 200, response.text
    names = [template["name"] for template in response.json()]
    assert names == sorted(names)
    assert {"support-assistant", "researcher", "sql-analyst", "analyst", "tester"} <= set(names)
    researcher = next(t for t in response.json() if t["name"] == "researcher")
    assert researcher["tools"] == ["http_fetch"]
    assert (await client.get(TEMPLATES)).status_code == 401


async def test_an_agent_made_from_a_template_has_its_settings(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    listed = {t["name"]: t for t in (await client.get(TEMPLATES, headers=me.headers)).json()}

    response = await client.post(f"{FROM_TEMPLATE}/researcher", json=SCRIPTED, headers=me.headers)

    assert response.status_code == 201, response.text
    agent = response.json()
    template = listed["researcher"]
    assert agent["name"] == "researcher"
    assert agent["description"] == template["description"]
    assert agent["system_prompt"] == template["system_prompt"]
    assert (agent["temperature"], agent["tools"], agent["version"]) == (0.2, ["http_fetch"], 1)
    run = await client.post(
        f"/api/v1/agents/{agent['id']}/execute", json={"message": "hi"}, headers=me.headers
    )
    assert run.json()["status"] == "completed"


async def test_overrides_replace_the_templates_fields(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    body = SCRIPTED | {"name": "Support EU", "temperature": 0.9, "tools": []}

    response = await client.post(
        f"{FROM_TEMPLATE}/support-assistant", json=body, headers=me.headers
    )

    agent = response.json()
    assert (agent["name"], agent["temperature"], agent["tools"]) == ("Support EU", 0.9, [])
    assert "support assistant" in agent["system_prompt"]


async def test_overrides_are_validated_like_a_new_agent(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    url = f"{FROM_TEMPLATE}/analyst"

    hot = await client.post(url, json=SCRIPTED | {"temperature": 5}, headers=me.headers)
    nul = await client.post(url, json=SCRIPTED | {"name": None}, headers=me.headers)
    tool = await client.post(url, json=SCRIPTED | {"tools": ["no_such_tool"]}, headers=me.headers)
    await client.post(url, json=SCRIPTED, headers=me.headers)
    again = await client.post(url, json=SCRIPTED, headers=me.headers)

    assert [hot.status_code, nul.status_code, tool.status_code] == [422, 422, 422]
    assert hot.json()["detail"][0]["loc"] == ["body", "temperature"]
    assert tool.json() == {"detail": "Unknown tools: no_such_tool"}
    assert again.status_code == 409


async def test_an_unknown_template_is_not_found(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    missing = await client.post(f"{FROM_TEMPLATE}/no-such-template", headers=me.headers)
    bad = await client.post(f"{FROM_TEMPLATE}/..%2Fsecret", headers=me.headers)

    assert missing.status_code == 404
    assert missing.json() == {"detail": "Agent template 'no-such-template' not found"}
    assert bad.status_code in (404, 422)


async def test_adding_a_file_adds_a_template(
    make_app: AppFactory, settings: Settings, me: SignedInUser, tmp_path: Path
) -> None:
    shutil.copytree(settings.agent_templates_dir, tmp_path, dirs_exist_ok=True)
    application = await make_app(agent_templates_dir=tmp_path)
    async with client_for(application) as client:
        (tmp_path / "translator.toml").write_text(
            'description = "Translates into French."\n'
            'system_prompt = "Translate every message into French."\n'
            "temperature = 0.1\n"
        )

        listed = (await client.get(TEMPLATES, headers=me.headers)).json()
        made = await client.post(f"{FROM_TEMPLATE}/translator", json=SCRIPTED, headers=me.headers)

    assert "translator" in [t["name"] for t in listed]
    assert made.status_code == 201, made.text
    assert made.json()["system_prompt"] == "Translate every message into French."
