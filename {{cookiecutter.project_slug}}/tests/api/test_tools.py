"""GET /tools and POST /tools/{name}/execute."""

from __future__ import annotations

import json
from typing import Any

import httpx

TOOLS = "/api/v1/tools"


async def test_listing_needs_a_signed_in_user(client: httpx.AsyncClient) -> None:
    assert (await client.get(TOOLS)).status_code == 401
    response = await client.post(f"{TOOLS}/calculator/execute", json={"arguments": {}})
    assert response.status_code == 401


async def test_lists_every_tool_with_its_schema(
    client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    response = await client.get(TOOLS, headers=auth_headers)
    assert response.status_code == 200
    page = response.json()
    names = [tool["name"] for tool in page["items"]]
    assert {"calculator", "current_time", "http_fetch", "read_file", "sql_query"} <= set(names)
    assert page["total"] == len(names)
    assert (page["skip"], page["limit"]) == (0, 20)
    calculator = next(tool for tool in page["items"] if tool["name"] == "calculator")
    assert calculator["parameters"]["required"] == ["expression"]
    assert calculator["parameters"]["properties"]["expression"]["type"] == "string"
    assert calculator["description"]
    assert calculator["timeout_seconds"] > 0


async def test_listing_is_paginated(
    client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    everything = (await client.get(TOOLS, headers=auth_headers)).json()
    second = (await client.get(TOOLS, params={"skip": 1, "limit": 2}, headers=auth_headers)).json()
    assert second["items"] == everything["items"][1:3]
    assert second["total"] == everything["total"]


async def test_reads_one_tool(client: httpx.AsyncClient, auth_headers: dict[str, str]) -> None:
    response = await client.get(f"{TOOLS}/current_time", headers=auth_headers)
    assert response.status_code == 200
    assert response.json()["parameters"]["properties"]["timezone"]["default"] == "UTC"
    missing = await client.get(f"{TOOLS}/nope", headers=auth_headers)
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Tool 'nope' not found"}


async def test_executes_a_tool(client: httpx.AsyncClient, auth_headers: dict[str, str]) -> None:
    response = await client.post(
        f"{TOOLS}/calculator/execute",
        json={"arguments": {"expression": "6 * 7"}},
        headers=auth_headers,
    )
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "calculator"
    assert body["content"] == "42"
    assert body["is_error"] is False
    assert body["duration_ms"] >= 0


async def test_a_refusal_is_a_result_not_a_failure(
    client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    response = await client.post(
        f"{TOOLS}/calculator/execute",
        json={"arguments": {"expression": "__import__('os')"}},
        headers=auth_headers,
    )
    assert response.status_code == 200
    assert response.json()["is_error"] is True
    assert "Only these functions" in response.json()["content"]


async def test_unknown_tool_is_404(client: httpx.AsyncClient, auth_headers: dict[str, str]) -> None:
    response = await client.post(
        f"{TOOLS}/nope/execute", json={"arguments": {}}, headers=auth_headers
    )
    assert response.status_code == 404
    assert response.json() == {"detail": "Tool 'nope' not found"}


async def test_bad_arguments_are_422_naming_the_field(
    client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    missing = await client.post(
        f"{TOOLS}/calculator/execute", json={"arguments": {}}, headers=auth_headers
    )
    assert missing.status_code == 422
    (error,) = missing.json()["detail"]
    assert error["loc"] == ["body", "arguments", "expression"]
    assert error["type"] == "missing"
    extra = await client.post(
        f"{TOOLS}/calculator/execute",
        json={"arguments": {"expression": "1", "unsafe": True}},
        headers=auth_headers,
    )
    assert extra.status_code == 422
    assert extra.json()["detail"][0]["loc"] == ["body", "arguments", "unsafe"]
    wrong_type = await client.post(
        f"{TOOLS}/list_files/execute",
        json={"arguments": {"recursive": "very"}},
        headers=auth_headers,
    )
    assert wrong_type.status_code == 422
    not_an_object = await client.post(
        f"{TOOLS}/calculator/execute", json={"arguments": [1, 2]}, headers=auth_headers
    )
    assert not_an_object.status_code == 422


async def test_file_tools_run_in_the_callers_own_sandbox(
    client: httpx.AsyncClient, auth_headers: dict[str, str], other_headers: dict[str, str]
) -> None:
    async def run(headers: dict[str, str], name: str, **arguments: object) -> dict[str, Any]:
        response = await client.post(
            f"{TOOLS}/{name}/execute", json={"arguments": arguments}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    written = await run(auth_headers, "write_file", path="plan.txt", content="step one")
    assert written["is_error"] is False
    assert (await run(auth_headers, "read_file", path="plan.txt"))["content"] == "step one"
    theirs = await run(other_headers, "list_files")
    assert json.loads(theirs["content"])["entries"] == []
    stolen = await run(other_headers, "read_file", path="plan.txt")
    assert stolen["is_error"] is True
