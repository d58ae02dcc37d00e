"""The /mcp endpoint, driven by the `mcp` SDK's own client over a real uvicorn server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from app.core.config import Settings
from tests.support.factories import SignedInUser, UserFactory
from tests.support.live_server import running_server
from tests.support.organizations import make_team
from tests.support.runs import create_agent

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def base_url(settings: Settings) -> Iterator[str]:
    with running_server(settings) as url:
        yield url


@asynccontextmanager
async def mcp_client(base_url: str, headers: dict[str, str]) -> AsyncIterator[Client]:
    async with (
        create_mcp_http_client(headers=headers) as http,
        Client(streamable_http_client(f"{base_url}/mcp", http_client=http)) as client,
    ):
        yield client


async def test_lists_only_the_callers_agents(
    client: httpx.AsyncClient, base_url: str, me: SignedInUser, stranger: SignedInUser
) -> None:
    await create_agent(client, me.headers, name="Helper One", description="Answers briefly.")
    await create_agent(client, me.headers, name="off", is_active=False)
    await create_agent(client, stranger.headers, name="theirs")

    async with mcp_client(base_url, me.headers) as mcp:
        tools = (await mcp.list_tools()).tools

    assert [tool.name for tool in tools] == ["ask_Helper_One"]
    assert tools[0].description == "Answers briefly."
    assert tools[0].input_schema["required"] == ["message"]


async def test_calling_an_agent_runs_it_and_returns_its_answer(
    client: httpx.AsyncClient, base_url: str, me: SignedInUser
) -> None:
    agent = await create_agent(client, me.headers, name="calc", tools=["calculator"])

    async with mcp_client(base_url, me.headers) as mcp:
        first = await mcp.call_tool(
            "ask_calc", {"message": '!tool calculator {"expression": "6*7"}'}
        )
        details: dict[str, Any] = first.structured_content or {}
        second = await mcp.call_tool(
            "ask_calc",
            {"message": "and again", "conversation_id": details["conversation_id"]},
        )

    assert first.is_error is False
    assert first.content[0].text == "[scripted] calculator -> 42"  # type: ignore[union-attr]
    assert second.content[0].text == "[scripted] and again"  # type: ignore[union-attr]
    executions = await client.get(
        "/api/v1/executions", params={"agent_id": agent["id"]}, headers=me.headers
    )
    assert executions.json()["total"] == 2
    assert {e["conversation_id"] for e in executions.json()["items"]} == {
        details["conversation_id"]
    }


async def test_an_api_key_works_and_another_users_agents_cannot_be_called(
    client: httpx.AsyncClient, base_url: str, me: SignedInUser, stranger: SignedInUser
) -> None:
    await create_agent(client, stranger.headers, name="theirs")
    created = await client.post("/api/v1/api-keys", json={"name": "ide"}, headers=me.headers)
    key = {"Authorization": f"Bearer {created.json()['key']}"}

    async with mcp_client(base_url, key) as mcp:
        listed = (await mcp.list_tools()).tools
        refused = await mcp.call_tool("ask_theirs", {"message": "hello"})

    assert listed == []
    assert refused.is_error is True
    assert refused.content[0].text == "Unknown tool: ask_theirs"  # type: ignore[union-attr]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-token"}])
async def test_a_missing_or_wrong_token_is_refused(base_url: str, headers: dict[str, str]) -> None:
    async with httpx.AsyncClient(base_url=base_url) as http:
        response = await http.post(
            "/mcp",
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            headers={**headers, "Accept": "application/json, text/event-stream"},
        )

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert await asyncio.to_thread(_sdk_client_fails, base_url, headers)


def _sdk_client_fails(base_url: str, headers: dict[str, str]) -> bool:
    """Whether the SDK's client fails to list tools; on a loop of its own, which it may leave untidy."""

    async def attempt() -> None:
        async with mcp_client(base_url, headers) as mcp:
            await mcp.list_tools()

    try:
        asyncio.run(attempt())
    except Exception:  # the SDK wraps the 401 its own way
        return True
    return False


async def test_built_in_tools_are_offered_only_when_the_settings_say_so(
    client: httpx.AsyncClient, base_url: str, settings: Settings, me: SignedInUser
) -> None:
    await create_agent(client, me.headers, name="calc")
    async with mcp_client(base_url, me.headers) as mcp:
        default_names = [tool.name for tool in (await mcp.list_tools()).tools]

    with running_server(settings.model_copy(update={"mcp_server_tools": True})) as url:
        async with mcp_client(url, me.headers) as mcp:
            offered = {tool.name: tool for tool in (await mcp.list_tools()).tools}
            answer = await mcp.call_tool("calculator", {"expression": "6*7"})
            refused = await mcp.call_tool("calculator", {"expression": "import os"})

    assert default_names == ["ask_calc"]
    assert "ask_calc" in offered
    assert offered["calculator"].input_schema["required"] == ["expression"]
    assert answer.is_error is False
    assert answer.content[0].text == "42"  # type: ignore[union-attr]
    assert refused.is_error is True


@pytest.mark.parametrize(
    ("organization", "status"), [("not-an-id", 422), ("00000000-0000-4000-8000-000000000000", 404)]
)
async def test_an_organisation_the_caller_is_not_in_is_refused(
    base_url: str, me: SignedInUser, organization: str, status: int
) -> None:
    async with httpx.AsyncClient(base_url=base_url) as http:
        response = await http.post(
            "/mcp",
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            headers={
                **me.headers,
                "X-Organization-Id": organization,
                "Accept": "application/json, text/event-stream",
            },
        )

    assert response.status_code == status
    assert "www-authenticate" not in response.headers


async def test_a_viewer_of_the_named_organisation_may_not_run_tools(
    client: httpx.AsyncClient, settings: Settings, users: UserFactory, me: SignedInUser
) -> None:
    team = await make_team(client, users, me, "viewer")
    viewer = team.members["viewer"]

    with running_server(settings.model_copy(update={"mcp_server_tools": True})) as url:
        async with mcp_client(url, team.headers("viewer")) as mcp:
            offered = [tool.name for tool in (await mcp.list_tools()).tools]
            refused = await mcp.call_tool("calculator", {"expression": "6*7"})
        async with mcp_client(url, viewer.headers) as mcp:
            personal = await mcp.call_tool("calculator", {"expression": "6*7"})

    assert "calculator" in offered
    assert refused.is_error is True
    assert "tools:run" in refused.content[0].text  # type: ignore[union-attr]
    assert personal.content[0].text == "42"  # type: ignore[union-attr]
