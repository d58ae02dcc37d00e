"""Helpers for tests that run agents through the HTTP API."""

from __future__ import annotations

import json
from typing import Any

import httpx

SCRIPTED = {"provider": "scripted", "model": "scripted"}


async def create_agent(
    client: httpx.AsyncClient, headers: dict[str, str], **fields: Any
) -> dict[str, Any]:
    """An agent on the offline scripted provider unless told otherwise."""
    body = {"name": "helper", "system_prompt": "You are helpful.", **SCRIPTED, **fields}
    response = await client.post("/api/v1/agents", json=body, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def execute(
    client: httpx.AsyncClient, headers: dict[str, str], agent_id: str, message: str, **extra: Any
) -> httpx.Response:
    return await client.post(
        f"/api/v1/agents/{agent_id}/execute",
        json={"message": message, **extra},
        headers=headers,
    )


async def messages_of(
    client: httpx.AsyncClient, headers: dict[str, str], conversation_id: str
) -> list[dict[str, Any]]:
    response = await client.get(
        f"/api/v1/conversations/{conversation_id}/messages",
        params={"limit": 100},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def parse_sse(text: str) -> list[tuple[str, Any]]:
    """(event, data) pairs of an SSE body; comments (pings) are skipped."""
    parsed: list[tuple[str, Any]] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        name, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        if data:
            joined = "\n".join(data)
            parsed.append((name, joined if joined == "[DONE]" else json.loads(joined)))
    return parsed
