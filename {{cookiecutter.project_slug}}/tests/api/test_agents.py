"""Agent routes: CRUD, listing, filters, versioning, isolation and validation."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
{%- if cookiecutter.use_openai %}
from pydantic import SecretStr
{%- endif %}

from app.db.session import Database
from app.models import Conversation, Execution, ExecutionStatus, Message
from tests.support.builders import Builder, minutes_ago
from tests.support.factories import AppFactory, SignedInUser, UserFactory, client_for

AGENTS = "/api/v1/agents"
VALID: dict[str, Any] = {"name": "Helper", "provider": "scripted", "model": "scripted-echo"}


async def test_create_agent_applies_defaults(client: httpx.AsyncClient, me: SignedInUser) -> None:
    response = await client.post(AGENTS, json=VALID, headers=me.headers)

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["name"] == "Helper"
    assert body["description"] is None
    assert body["system_prompt"] == ""
    assert body["temperature"] == 0.7
    assert body["max_tokens"] == 1024
    assert body["tools"] == []
    assert body["is_active"] is True
    assert body["version"] == 1
    assert uuid.UUID(body["id"])
    assert "owner_id" not in body


async def test_agent_names_are_unique_per_owner(
    client: httpx.AsyncClient, me: SignedInUser, users: UserFactory
) -> None:
    first = await client.post(AGENTS, json=VALID, headers=me.headers)
    taken = await client.post(AGENTS, json=VALID | {"name": " Helper "}, headers=me.headers)
    other = await users.signed_in()
    theirs = await client.post(AGENTS, json=VALID, headers=other.headers)

    assert first.status_code == 201
    assert taken.status_code == 409
    assert taken.json() == {"detail": "This organization already has an agent named 'Helper'"}
    assert theirs.status_code == 201


async def test_renaming_to_a_taken_name_is_refused(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    await client.post(AGENTS, json=VALID, headers=me.headers)
    second = (await client.post(AGENTS, json=VALID | {"name": "Writer"}, headers=me.headers)).json()

    url = f"{AGENTS}/{second['id']}"

    clash = await client.patch(url, json={"name": "Helper"}, headers=me.headers)
    same = await client.patch(url, json={"name": "Writer"}, headers=me.headers)

    assert clash.status_code == 409
    assert same.status_code == 200
    assert (await client.get(url, headers=me.headers)).json()["name"] == "Writer"


async def test_create_agent_stores_every_field(client: httpx.AsyncClient, me: SignedInUser) -> None:
    payload = VALID | {
        "name": "  Researcher  ",
        "description": "Finds things",
        "system_prompt": "Be brief.",
        "temperature": 0,
        "max_tokens": 200_000,
        "tools": ["calculator", "http_fetch"],
        "is_active": False,
    }
    created = (await client.post(AGENTS, json=payload, headers=me.headers)).json()

    fetched = await client.get(f"{AGENTS}/{created['id']}", headers=me.headers)

    assert fetched.status_code == 200
    assert fetched.json() == created
    assert created["name"] == "Researcher"
    assert created["tools"] == ["calculator", "http_fetch"]
    assert created["temperature"] == 0
    assert created["is_active"] is False


async def test_list_agents_pages_newest_first(
    client: httpx.AsyncClient, me: SignedInUser, build: Builder
) -> None:
    for age in range(5):
        await build.agent(owner_id=me.id, name=f"age-{age}", created_at=minutes_ago(age))

    response = await client.get(AGENTS, params={"skip": 1, "limit": 2}, headers=me.headers)

    assert response.status_code == 200
    body = response.json()
    assert (body["total"], body["skip"], body["limit"]) == (5, 1, 2)
    assert [a["name"] for a in body["items"]] == ["age-1", "age-2"]


async def test_list_agents_defaults_to_twenty(
    client: httpx.AsyncClient, me: SignedInUser, build: Builder
) -> None:
    for _ in range(21):
        await build.agent(owner_id=me.id)

    body = (await client.get(AGENTS, headers=me.headers)).json()

    assert (len(body["items"]), body["total"], body["skip"], body["limit"]) == (20, 21, 0, 20)


async def test_list_agents_past_the_end_is_empty(
    client: httpx.AsyncClient, me: SignedInUser, build: Builder
) -> None:
    await build.agent(owner_id=me.id)

    body = (await client.get(AGENTS, params={"skip": 5}, headers=me.headers)).json()

    assert body["items"] == []
    assert body["total"] == 1


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("WRITER", ["Writer", "Editor"]),
        ("draft", ["Editor"]),
        ("100%", ["Percent"]),
        ("_", []),
    ],
)
async def test_list_agents_searches_name_and_description(
    client: httpx.AsyncClient, me: SignedInUser, build: Builder, q: str, expected: list[str]
) -> None:
    await build.agent(owner_id=me.id, name="Writer", created_at=minutes_ago(3))
    await build.agent(
        owner_id=me.id,
        name="Editor",
        description="Polishes a writer's draft",
        created_at=minutes_ago(2),
    )
    await build.agent(
        owner_id=me.id, name="Percent", description="Gives 100% effort", created_at=minutes_ago(1)
    )

    body = (await client.get(AGENTS, params={"q": q}, headers=me.headers)).json()

    assert sorted(a["name"] for a in body["items"]) == sorted(expected)
    assert body["total"] == len(expected)


async def test_list_agents_filters_by_provider_and_active(
    client: httpx.AsyncClient, me: SignedInUser, build: Builder
) -> None:
    await build.agent(owner_id=me.id, name="a", provider="openai", is_active=True)
    await build.agent(owner_id=me.id, name="b", provider="openai", is_active=False)
    await build.agent(owner_id=me.id, name="c", provider="scripted", is_active=True)

    async def names(**params: Any) -> list[str]:
        body = (await client.get(AGENTS, params=params, headers=me.headers)).json()
        return sorted(a["name"] for a in body["items"])

    assert await names(provider="openai") == ["a", "b"]
    assert await names(is_active="false") == ["b"]
    assert await names(is_active="true") == ["a", "c"]
    assert await names(provider="openai", is_active="true") == ["a"]
    assert await names(provider="gemini") == []


async def test_update_agent_changes_only_what_was_sent(
    client: httpx.AsyncClient, me: SignedInUser, build: Builder
) -> None:
    agent = await build.agent(owner_id=me.id, name="Old", description="Kept")

    response = await client.patch(f"{AGENTS}/{agent.id}", json={"name": "New"}, headers=me.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == "New"
    assert body["description"] == "Kept"
    assert body["model"] == agent.model


@pytest.mark.parametrize(
    "change",
    [
        {"system_prompt": "Be terse."},
        {"model": "gpt-4o-mini"},
        {"temperature": 1.5},
        {"max_tokens": 64},
        {"tools": ["calculator"]},
    ],
)
async def test_behaviour_changes_bump_the_version(
    client: httpx.AsyncClient, me: SignedInUser, build: Builder, change: dict[str, Any]
) -> None:
    agent = await build.agent(owner_id=me.id)

    body = (await client.patch(f"{AGENTS}/{agent.id}", json=change, headers=me.headers)).json()

    assert body["version"] == 2
    assert {key: body[key] for key in change} == change


@pytest.mark.parametrize(
    "change",
    [
        {"name": "Renamed"},
        {"description": "Now described"},
        {"is_active": False},
        {},
        {"model": "scripted-echo", "temperature": 0.7},
    ],
)
async def test_other_changes_keep_the_version(
    client: httpx.AsyncClient, me: SignedInUser, build: Builder, change: dict[str, Any]
) -> None:
    agent = await build.agent(owner_id=me.id, model="scripted-echo", temperature=0.7)

    response = await client.patch(f"{AGENTS}/{agent.id}", json=change, headers=me.headers)

    assert response.status_code == 200, response.text
    assert response.json()["version"] == 1


async def test_each_behaviour_change_bumps_again(
    client: httpx.AsyncClient, me: SignedInUser, build: Builder
) -> None:
    agent = await build.agent(owner_id=me.id)
    url = f"{AGENTS}/{agent.id}"

    await client.patch(url, json={"model": "one"}, headers=me.headers)
    body = (await client.patch(url, json={"model": "two"}, headers=me.headers)).json()

    assert body["version"] == 3


async def test_update_agent_can_clear_the_description(
    client: httpx.AsyncClient, me: SignedInUser, build: Builder
) -> None:
    agent = await build.agent(owner_id=me.id, description="Something")

    response = await client.patch(
        f"{AGENTS}/{agent.id}", json={"description": None}, headers=me.headers
    )

    assert response.json()["description"] is None


async def test_delete_agent_removes_everything_it_owns(
    client: httpx.AsyncClient, me: SignedInUser, build: Builder
) -> None:
    agent = await build.agent(owner_id=me.id)
    conversation = await build.conversation(agent=agent)
    await build.message(conversation=conversation)
    await build.execution(conversation=conversation, status=ExecutionStatus.COMPLETED)
    kept = await build.conversation(agent=await build.agent(owner_id=me.id))

    response = await client.delete(f"{AGENTS}/{agent.id}", headers=me.headers)

    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get(f"{AGENTS}/{agent.id}", headers=me.headers)).status_code == 404
    assert await build.count(Message) == 0
    assert await build.count(Execution) == 0
    assert await build.count(Conversation) == 1
    assert await build.fetch_conversation(kept.id) is not None


async def test_unknown_agent_is_404(client: httpx.AsyncClient, me: SignedInUser) -> None:
    response = await client.get(f"{AGENTS}/{uuid.uuid4()}", headers=me.headers)

    assert response.status_code == 404
    assert response.json() == {"detail": "Agent not found"}


@pytest.mark.parametrize(
    ("method", "payload"),
    [("GET", None), ("PATCH", {"name": "Taken over"}), ("DELETE", None)],
)
async def test_another_users_agent_is_404(
    client: httpx.AsyncClient,
    me: SignedInUser,
    stranger: SignedInUser,
    build: Builder,
    method: str,
    payload: dict[str, Any] | None,
) -> None:
    agent = await build.agent(owner_id=me.id, name="Mine")

    response = await client.request(
        method, f"{AGENTS}/{agent.id}", json=payload, headers=stranger.headers
    )

    assert response.status_code == 404
    assert response.json() == {"detail": "Agent not found"}
    stored = await build.fetch_agent(agent.id)
    assert stored is not None
    assert stored.name == "Mine"


async def test_lists_show_only_ones_own_agents(
    client: httpx.AsyncClient, me: SignedInUser, stranger: SignedInUser, build: Builder
) -> None:
    await build.agent(owner_id=me.id, name="Mine")
    await build.agent(owner_id=stranger.id, name="Theirs")

    body = (await client.get(AGENTS, headers=me.headers)).json()

    assert [a["name"] for a in body["items"]] == ["Mine"]
    assert body["total"] == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", ""),
        ("POST", ""),
        ("GET", "/{id}"),
        ("PATCH", "/{id}"),
        ("DELETE", "/{id}"),
    ],
)
async def test_agent_routes_require_a_token(
    client: httpx.AsyncClient, me: SignedInUser, build: Builder, method: str, path: str
) -> None:
    agent = await build.agent(owner_id=me.id)
    url = AGENTS + path.format(id=agent.id)

    response = await client.request(method, url, json=VALID if method != "GET" else None)

    assert response.status_code == 401
    assert await build.fetch_agent(agent.id) is not None


@pytest.mark.parametrize(
    "change",
    [
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 101},
        {"name": "nul\x00"},
        {"name": None},
        {"provider": ""},
        {"provider": "p" * 51},
        {"model": ""},
        {"model": "m" * 101},
        {"temperature": -0.1},
        {"temperature": 2.01},
        {"temperature": "hot"},
        {"max_tokens": 0},
        {"max_tokens": 200_001},
        {"max_tokens": 1.5},
        {"tools": ["calculator", "calculator"]},
        {"tools": "calculator"},
        {"tools": [""]},
        {"is_active": "maybe"},
        {"description": "d" * 2001},
        {"system_prompt": None},
    ],
)
async def test_create_agent_rejects_bad_fields(
    client: httpx.AsyncClient, me: SignedInUser, change: dict[str, Any]
) -> None:
    response = await client.post(AGENTS, json=VALID | change, headers=me.headers)

    assert response.status_code == 422, response.text


async def test_create_agent_requires_a_name(client: httpx.AsyncClient, me: SignedInUser) -> None:
    payload = {key: value for key, value in VALID.items() if key != "name"}

    response = await client.post(AGENTS, json=payload, headers=me.headers)

    assert response.status_code == 422
    assert "name" in response.text


@pytest.mark.parametrize(
    ("given", "provider", "model"),
    [
        ({}, "scripted", "scripted"),
        ({"provider": None, "model": None}, "scripted", "scripted"),
        ({"model": "scripted-echo"}, "scripted", "scripted-echo"),
        ({"provider": "scripted"}, "scripted", "scripted"),
    ],
)
async def test_create_agent_without_provider_or_model_gets_the_defaults(
    client: httpx.AsyncClient,
    me: SignedInUser,
    given: dict[str, Any],
    provider: str,
    model: str,
) -> None:
    response = await client.post(AGENTS, json={"name": "Plain"} | given, headers=me.headers)

    assert response.status_code == 201, response.text
    assert (response.json()["provider"], response.json()["model"]) == (provider, model)
{%- if cookiecutter.use_openai %}


async def test_default_provider_setting_picks_provider_and_its_default_model(
    make_app: AppFactory, database: Database
) -> None:
    """DEFAULT_PROVIDER names a vendor that an agent with neither field gets.

    The agent also gets that vendor's default model setting.
    """
    app = await make_app(
        default_provider="openai",
        openai_api_key=SecretStr("sk-test"),
        openai_default_model="gpt-test",
    )
    async with client_for(app) as other:
        user = await UserFactory(other, database).signed_in()
        response = await other.post(AGENTS, json={"name": "Vendor"}, headers=user.headers)
        chosen = await other.post(
            AGENTS, json={"name": "Chosen", "provider": "scripted"}, headers=user.headers
        )

    assert response.status_code == 201, response.text
    assert (response.json()["provider"], response.json()["model"]) == ("openai", "gpt-test")
    assert (chosen.json()["provider"], chosen.json()["model"]) == ("scripted", "scripted")
{%- endif %}


async def test_unconfigured_default_provider_is_a_clear_422(
    make_app: AppFactory, database: Database
) -> None:
    app = await make_app(default_provider="nope")
    async with client_for(app) as other:
        user = await UserFactory(other, database).signed_in()
        response = await other.post(AGENTS, json={"name": "Lost"}, headers=user.headers)

    assert response.status_code == 422
    assert "Unknown provider 'nope'" in response.json()["detail"]


@pytest.mark.parametrize(
    "change",
    [
        {"name": None},
        {"name": ""},
        {"model": None},
        {"tools": None},
        {"temperature": 3},
        {"is_active": None},
        {"tools": ["a", "a"]},
    ],
)
async def test_update_agent_rejects_bad_fields(
    client: httpx.AsyncClient, me: SignedInUser, build: Builder, change: dict[str, Any]
) -> None:
    agent = await build.agent(owner_id=me.id)

    response = await client.patch(f"{AGENTS}/{agent.id}", json=change, headers=me.headers)

    assert response.status_code == 422, response.text
    stored = await build.fetch_agent(agent.id)
    assert stored is not None
    assert stored.version == 1


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'"text"', b""])
async def test_agent_bodies_must_be_json_objects(
    client: httpx.AsyncClient, me: SignedInUser, body: bytes
) -> None:
    headers = me.headers | {"Content-Type": "application/json"}

    response = await client.post(AGENTS, content=body, headers=headers)

    assert response.status_code == 422


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 101},
        {"skip": -1},
        {"limit": "ten"},
        {"is_active": "maybe"},
        {"q": "x" * 101},
        {"q": "\x00"},
        {"provider": "\x00"},
    ],
)
async def test_list_agents_rejects_bad_parameters(
    client: httpx.AsyncClient, me: SignedInUser, params: dict[str, Any]
) -> None:
    response = await client.get(AGENTS, params=params, headers=me.headers)

    assert response.status_code == 422


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_malformed_agent_id_is_422(
    client: httpx.AsyncClient, me: SignedInUser, method: str
) -> None:
    response = await client.request(
        method, f"{AGENTS}/not-a-uuid", json={} if method == "PATCH" else None, headers=me.headers
    )

    assert response.status_code == 422


async def test_unknown_provider_or_tool_is_refused_on_create(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    bad_provider = await client.post(AGENTS, json=VALID | {"provider": "nope"}, headers=me.headers)
    bad_tool = await client.post(AGENTS, json=VALID | {"tools": ["rm_rf"]}, headers=me.headers)
    accepted = await client.post(AGENTS, json=VALID, headers=me.headers)

    assert bad_provider.status_code == 422
    assert "Unknown provider 'nope'" in bad_provider.json()["detail"]
    assert "scripted" in bad_provider.json()["detail"]
    assert bad_tool.status_code == 422
    assert "rm_rf" in bad_tool.json()["detail"]
    assert accepted.status_code == 201


async def test_an_update_is_judged_by_its_result(
    client: httpx.AsyncClient, me: SignedInUser, build: Builder
) -> None:
    good = await build.agent(owner_id=me.id, provider="scripted")
    legacy = await build.agent(owner_id=me.id, provider="retired", name="Legacy")

    refused = await client.patch(
        f"{AGENTS}/{good.id}", json={"provider": "nope"}, headers=me.headers
    )
    renamed = await client.patch(
        f"{AGENTS}/{legacy.id}", json={"name": "Still legacy"}, headers=me.headers
    )
    retuned = await client.patch(
        f"{AGENTS}/{legacy.id}", json={"model": "other"}, headers=me.headers
    )

    assert refused.status_code == 422
    assert renamed.status_code == 200
    assert retuned.status_code == 422
