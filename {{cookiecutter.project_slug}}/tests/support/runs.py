"""Helpers for tests that run agents through the HTTP API."""

from __future__ import annotations

import json
from typing import Any

import httpx
from fastapi import FastAPI

from app.ai.providers.scripted import ScriptedProvider

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


def sse_ids(text: str) -> list[tuple[str | None, str]]:
    """(id, event) pairs of an SSE body's events, in order; None for an event without an id."""
    pairs: list[tuple[str | None, str]] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            key, colon, value = line.partition(":")
            if colon and key:  # a line starting with ":" is a comment (a ping)
                fields[key] = value.strip()
        if "data" in fields:
            pairs.append((fields.get("id"), fields.get("event", "message")))
    return pairs


async def execute_with_key(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    agent_id: str,
    key: str | None,
    body: dict[str, Any],
) -> httpx.Response:
    """`POST /agents/{id}/execute` with this Idempotency-Key (None sends none)."""
    keyed = headers if key is None else {**headers, "Idempotency-Key": key}
    return await client.post(f"/api/v1/agents/{agent_id}/execute", json=body, headers=keyed)


async def executions_of(client: httpx.AsyncClient, headers: dict[str, str]) -> list[Any]:
    """The user's executions, newest first."""
    listing = await client.get("/api/v1/executions", headers=headers)
    assert listing.status_code == 200, listing.text
    items: list[Any] = listing.json()["items"]
    return items


def scripted_calls(app: FastAPI, marker: str) -> int:
    """How many requests reached the scripted model with `marker` in their last message.

    Other tests' runs reach the same model too (an orphan resumed by a sweep may have no
    message at all), so only requests whose last message carries the marker count.
    """
    scripted = app.state.providers.get("scripted")
    assert isinstance(scripted, ScriptedProvider)
    return sum(
        1
        for request in scripted.requests
        if request.messages and marker in request.messages[-1].content
    )
