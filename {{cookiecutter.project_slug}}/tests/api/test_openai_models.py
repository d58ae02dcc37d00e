"""`/v1/models` lists the caller's agents, and `/v1` errors take OpenAI's shape."""

from __future__ import annotations

import httpx

from tests.support.factories import SignedInUser, UserFactory
from tests.support.runs import create_agent

MODELS = "/v1/models"


async def test_models_lists_only_my_active_agents_by_name(
    client: httpx.AsyncClient, me: SignedInUser, users: UserFactory
) -> None:
    writer = await create_agent(client, me.headers, name="writer", description="Drafts")
    await create_agent(client, me.headers, name="archived", is_active=False)
    other = await users.signed_in()
    await create_agent(client, other.headers, name="theirs")

    response = await client.get(MODELS, headers=me.headers)

    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "list"
    assert [card["id"] for card in body["data"]] == ["writer"]
    card = body["data"][0]
    assert card["object"] == "model"
    assert card["owned_by"] == "scripted"
    assert card["agent_id"] == writer["id"]
    assert card["description"] == "Drafts"
    assert isinstance(card["created"], int)


async def test_a_model_is_found_by_name_or_id(client: httpx.AsyncClient, me: SignedInUser) -> None:
    agent = await create_agent(client, me.headers, name="writer")

    by_name = await client.get(f"{MODELS}/writer", headers=me.headers)
    by_id = await client.get(f"{MODELS}/{agent['id']}", headers=me.headers)

    assert by_name.status_code == by_id.status_code == 200
    assert by_name.json() == by_id.json()
    assert by_name.json()["id"] == "writer"


async def test_an_unknown_model_is_an_openai_not_found(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    response = await client.get(f"{MODELS}/nobody", headers=me.headers)

    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "message": "No agent with id or name 'nobody'",
            "type": "not_found_error",
            "param": None,
            "code": None,
        }
    }


async def test_v1_errors_use_openai_shape_and_the_rest_keep_detail(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    unauthenticated = await client.get(MODELS)
    invalid = await client.post(
        "/v1/chat/completions", json={"model": "x", "messages": []}, headers=me.headers
    )
    unknown_route = await client.get("/v1/embeddings", headers=me.headers)
    rest = await client.get("/api/v1/agents/not-a-uuid", headers=me.headers)

    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["WWW-Authenticate"] == "Bearer"
    assert unauthenticated.json()["error"]["type"] == "authentication_error"
    assert invalid.status_code == 422
    assert invalid.json()["error"]["type"] == "invalid_request_error"
    assert invalid.json()["error"]["param"] == "messages"
    assert invalid.json()["error"]["message"].startswith("messages: ")
    assert unknown_route.status_code == 404
    assert unknown_route.json()["error"]["type"] == "not_found_error"
    assert rest.status_code == 422
    assert "detail" in rest.json()
    assert "error" not in rest.json()
