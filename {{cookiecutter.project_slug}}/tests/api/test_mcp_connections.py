"""MCP connection routes: storing, reading without secrets, validating, testing, isolation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.db.session import Database
from app.models import McpConnection
from tests.support.factories import SignedInUser
from tests.support.mcp_servers import STDIO_COMMAND, http_mcp_server

CONNECTIONS = "/api/v1/mcp-connections"
TOKEN = "Bearer very-secret-token-123"


async def _create(client: httpx.AsyncClient, me: SignedInUser, **fields: Any) -> httpx.Response:
    body = {"name": "tools", "url": "http://127.0.0.1:9/mcp", **fields}
    return await client.post(CONNECTIONS, json=body, headers=me.headers)


async def test_headers_are_stored_encrypted_and_never_read_back(
    client: httpx.AsyncClient, me: SignedInUser, database: Database
) -> None:
    response = await _create(client, me, headers={"Authorization": TOKEN})

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["header_names"] == ["Authorization"]
    assert body["timeout_seconds"] == 30.0
    assert TOKEN not in response.text
    listed = await client.get(CONNECTIONS, headers=me.headers)
    assert listed.json()["total"] == 1
    assert TOKEN not in listed.text
    async with database.transaction() as session:
        stored = await session.scalar(select(McpConnection))
    assert stored is not None
    assert stored.headers_encrypted is not None
    assert "very-secret" not in stored.headers_encrypted


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "Bad_Name"}, "name"),
        ({"url": "ftp://example.com"}, "url"),
        ({"url": None}, "takes a url"),
        ({"command": ["x"]}, "takes a url and no command"),
        ({"timeout_seconds": 0}, "timeout_seconds"),
        ({"headers": {"Bad Header": "x"}}, "headers"),
        ({"allowed_tools": ["no spaces"]}, "allowed_tools"),
    ],
)
async def test_bad_connections_are_refused(
    client: httpx.AsyncClient, me: SignedInUser, fields: dict[str, Any], message: str
) -> None:
    response = await _create(client, me, **fields)

    assert response.status_code == 422
    assert message in response.text


async def test_stdio_needs_the_admins_setting(client: httpx.AsyncClient, me: SignedInUser) -> None:
    response = await _create(client, me, transport="stdio", url=None, command=STDIO_COMMAND)

    assert response.status_code == 422
    assert "MCP_ALLOW_STDIO" in response.json()["detail"]


async def test_names_are_unique_per_owner(
    client: httpx.AsyncClient, me: SignedInUser, stranger: SignedInUser
) -> None:
    first = await _create(client, me)
    taken = await _create(client, me)
    theirs = await _create(client, stranger)

    assert [first.status_code, taken.status_code, theirs.status_code] == [201, 409, 201]


async def test_update_changes_and_replaces_headers(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    created = (await _create(client, me, headers={"Authorization": TOKEN})).json()
    url = f"{CONNECTIONS}/{created['id']}"

    response = await client.patch(
        url, json={"headers": {"X-Api-Key": "k"}, "timeout_seconds": 5}, headers=me.headers
    )
    command = await client.patch(url, json={"command": ["python"]}, headers=me.headers)

    assert response.status_code == 200, response.text
    assert (response.json()["header_names"], response.json()["timeout_seconds"]) == (
        ["X-Api-Key"],
        5.0,
    )
    assert command.status_code == 422


async def test_the_test_endpoint_says_whether_the_server_answers(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    with http_mcp_server() as url:
        created = (await _create(client, me, url=url)).json()
        working = await client.post(f"{CONNECTIONS}/{created['id']}/test", headers=me.headers)
    down = await client.post(f"{CONNECTIONS}/{created['id']}/test", headers=me.headers)
    tools = await client.get(f"{CONNECTIONS}/{created['id']}/tools", headers=me.headers)

    assert working.status_code == 200, working.text
    assert (working.json()["ok"], working.json()["tool_count"]) == (True, 5)
    assert down.json()["ok"] is False
    assert "MCP server 'tools'" in down.json()["error"]
    assert tools.status_code == 503


async def test_delete_removes_the_connection(client: httpx.AsyncClient, me: SignedInUser) -> None:
    created = (await _create(client, me)).json()
    url = f"{CONNECTIONS}/{created['id']}"

    deleted = await client.delete(url, headers=me.headers)

    assert deleted.status_code == 204
    assert (await client.get(url, headers=me.headers)).status_code == 404


async def test_agents_may_enable_mcp_tool_names(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    body = {"name": "a", "provider": "scripted", "model": "scripted"}

    good = await client.post(
        "/api/v1/agents", json=body | {"tools": ["mcp:tools:search"]}, headers=me.headers
    )
    bad = await client.post(
        "/api/v1/agents", json=body | {"name": "b", "tools": ["mcp:Bad:x"]}, headers=me.headers
    )

    assert good.status_code == 201, good.text
    assert bad.status_code == 422
