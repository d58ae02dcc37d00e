"""Agents calling tools of a real MCP server process, over streamable HTTP and over stdio."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from tests.support.factories import SignedInUser
from tests.support.mcp_servers import STDIO_COMMAND, http_mcp_server
from tests.support.runs import create_agent, execute

CONNECTIONS = "/api/v1/mcp-connections"
TOOLS = ["mcp:test:add", "mcp:test:fail", "mcp:test:slow", "mcp:test:die", "mcp:test:huge"]


def _target(transport: str, url: str) -> dict[str, Any]:
    if transport == "http":
        return {"transport": "http", "url": url}
    return {"transport": "stdio", "command": STDIO_COMMAND}


async def _connect(
    client: httpx.AsyncClient, me: SignedInUser, target: dict[str, Any], **fields: Any
) -> dict[str, Any]:
    body = {"name": "test", "timeout_seconds": 10, **target, **fields}
    response = await client.post(CONNECTIONS, json=body, headers=me.headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def _call(
    client: httpx.AsyncClient, me: SignedInUser, agent: dict[str, Any], tool: str, args: Any
) -> dict[str, Any]:
    """Run the agent so that the scripted model calls one MCP tool; the tool message."""
    message = f"!tool mcp__test__{tool} {json.dumps(args)}"
    execution = (await execute(client, me.headers, agent["id"], message)).json()
    assert execution["status"] == "completed", execution
    response = await client.get(
        f"/api/v1/conversations/{execution['conversation_id']}/messages", headers=me.headers
    )
    tool_messages = [m for m in response.json()["items"] if m["role"] == "tool"]
    assert len(tool_messages) == 1, response.json()
    result: dict[str, Any] = tool_messages[0]
    return result


@pytest.fixture(params=["http", "stdio"])
async def connected(
    request: pytest.FixtureRequest, mcp_client: httpx.AsyncClient, me: SignedInUser
) -> Any:
    """An agent with the test server's tools, over one transport each run."""
    with http_mcp_server() as url:
        await _connect(mcp_client, me, _target(request.param, url))
        agent = await create_agent(mcp_client, me.headers, tools=TOOLS)
        yield mcp_client, agent


async def test_lists_the_servers_tools(mcp_client: httpx.AsyncClient, me: SignedInUser) -> None:
    for transport in ("http", "stdio"):
        with http_mcp_server() as url:
            connection = await _connect(
                mcp_client, me, _target(transport, url), name=transport, allowed_tools=["add"]
            )
            response = await mcp_client.get(
                f"{CONNECTIONS}/{connection['id']}/tools", headers=me.headers
            )
        assert response.status_code == 200, response.text
        tools = {tool["name"]: tool for tool in response.json()}
        assert set(tools) == {"add", "fail", "slow", "die", "huge"}
        assert tools["add"]["agent_tool_name"] == f"mcp:{transport}:add"
        assert tools["add"]["input_schema"]["required"] == ["a", "b"]
        assert (tools["add"]["allowed"], tools["slow"]["allowed"]) == (True, False)


async def test_a_call_returns_the_servers_answer(connected: Any, me: SignedInUser) -> None:
    client, agent = connected

    result = await _call(client, me, agent, "add", {"a": 2, "b": 40})

    assert result["content"] == "42"
    assert result["name"] == "mcp__test__add"


async def test_a_server_error_is_a_tool_failure(connected: Any, me: SignedInUser) -> None:
    client, agent = connected

    result = await _call(client, me, agent, "fail", {"reason": "disk on fire"})

    assert result["content"].startswith("mcp:test:fail failed:")
    missing = await _call(client, me, agent, "add", {"a": 1})
    assert missing["content"] == "Invalid arguments for mcp:test:add: missing b"


async def test_a_slow_server_times_out(
    mcp_client: httpx.AsyncClient, me: SignedInUser, mcp_url: str
) -> None:
    await _connect(mcp_client, me, _target("http", mcp_url), timeout_seconds=1)
    agent = await create_agent(mcp_client, me.headers, tools=TOOLS)
    started = time.monotonic()

    result = await _call(mcp_client, me, agent, "slow", {"seconds": 30})

    assert time.monotonic() - started < 10
    assert "timed out" in result["content"]
    assert (await _call(mcp_client, me, agent, "add", {"a": 1, "b": 1}))["content"] == "2"


async def test_a_server_dying_mid_call_fails_the_call_and_the_next_call_reconnects(
    mcp_client: httpx.AsyncClient, me: SignedInUser
) -> None:
    await _connect(mcp_client, me, _target("stdio", ""), timeout_seconds=20)
    agent = await create_agent(mcp_client, me.headers, tools=TOOLS)
    assert (await _call(mcp_client, me, agent, "add", {"a": 1, "b": 2}))["content"] == "3"
    started = time.monotonic()

    died = await _call(mcp_client, me, agent, "die", {})

    assert time.monotonic() - started < 15
    assert "closed the connection during the call" in died["content"]
    assert (await _call(mcp_client, me, agent, "add", {"a": 2, "b": 2}))["content"] == "4"


async def test_an_http_server_dying_mid_call_fails_clearly(
    mcp_client: httpx.AsyncClient, me: SignedInUser
) -> None:
    with http_mcp_server() as url:
        await _connect(mcp_client, me, _target("http", url), timeout_seconds=20)
        agent = await create_agent(mcp_client, me.headers, tools=TOOLS)
        started = time.monotonic()

        died = await _call(mcp_client, me, agent, "die", {})
        after = await _call(mcp_client, me, agent, "add", {"a": 2, "b": 2})

    assert time.monotonic() - started < 15
    assert "MCP server 'test'" in died["content"]
    assert "MCP server 'test'" in after["content"]


async def test_a_huge_result_is_capped_and_stripped(connected: Any, me: SignedInUser) -> None:
    client, agent = connected

    result = await _call(client, me, agent, "huge", {"size": 3_000_000})

    assert "\x00" not in result["content"]
    assert len(result["content"].encode()) <= 100_000
    assert result["content"].endswith("[truncated]")


async def test_a_down_server_is_a_clear_failure(
    mcp_client: httpx.AsyncClient, me: SignedInUser
) -> None:
    with http_mcp_server() as url:
        pass
    await _connect(mcp_client, me, _target("http", url), timeout_seconds=5)
    agent = await create_agent(mcp_client, me.headers, tools=TOOLS)

    result = await _call(mcp_client, me, agent, "add", {"a": 1, "b": 1})

    assert result["content"].startswith("MCP server 'test' is unreachable")


async def test_tools_outside_the_allowlist_or_needing_approval_are_refused(
    mcp_client: httpx.AsyncClient, me: SignedInUser, mcp_url: str
) -> None:
    target = _target("http", mcp_url)
    await _connect(
        mcp_client, me, target, allowed_tools=["add", "fail"], approval_required=["fail"]
    )
    agent = await create_agent(mcp_client, me.headers, tools=TOOLS)

    slow = await _call(mcp_client, me, agent, "slow", {"seconds": 0})
    fail = await _call(mcp_client, me, agent, "fail", {"reason": "x"})

    assert slow["content"] == "mcp:test:slow is not in the allowed tools of 'test'"
    assert "requires the user's approval" in fail["content"]
