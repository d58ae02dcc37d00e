"""Example workflows made through the API, and waiting for a run to reach a state."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx

from app.ai.workflows.examples import ExampleWorkflow

API = "/api/v1"
# A pipeline runs up to nine agent steps: on a loaded machine that takes longer than
# the usual five-second wait.
RUN_DEADLINE_SECONDS = 30.0
POLL_SECONDS = 0.02


async def create_example(
    client: httpx.AsyncClient, headers: dict[str, str], example: ExampleWorkflow
) -> dict[str, Any]:
    """The example's agents (on the scripted provider) and the workflow, made over the API."""
    ids: dict[str, uuid.UUID] = {}
    for agent in example.agents:
        response = await client.post(
            f"{API}/agents",
            json={
                "name": f"{agent.name} {uuid.uuid4().hex[:6]}",
                "system_prompt": agent.system_prompt,
                "provider": "scripted",
                "model": "scripted",
            },
            headers=headers,
        )
        assert response.status_code == 201, response.text
        ids[agent.key] = uuid.UUID(response.json()["id"])
    response = await client.post(
        f"{API}/workflows",
        json={
            "name": example.name,
            "description": example.description,
            "steps": example.steps(ids),
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text
    workflow: dict[str, Any] = response.json()
    return workflow


async def start_run(
    client: httpx.AsyncClient, headers: dict[str, str], workflow_id: str, text: str
) -> str:
    """Start a run of the workflow on `text`; its id."""
    response = await client.post(
        f"{API}/workflows/{workflow_id}/runs", json={"input": text}, headers=headers
    )
    assert response.status_code == 202, response.text
    run_id: str = response.json()["id"]
    return run_id


async def run_when(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    run_id: str,
    status: str,
    *,
    waiting_at: str | None = None,
) -> dict[str, Any]:
    """The run once it has `status` (and, when given, waits at that approval step)."""
    seen: dict[str, Any] = {}

    async def reached() -> bool:
        response = await client.get(f"{API}/workflow-runs/{run_id}", headers=headers)
        assert response.status_code == 200, response.text
        seen.update(response.json())
        if seen["status"] != status:
            return False
        if waiting_at is None:
            return True
        return any(
            step["step_id"] == waiting_at and step["status"] == "waiting" for step in seen["steps"]
        )

    deadline = time.monotonic() + RUN_DEADLINE_SECONDS
    while not await reached():
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} never {status} at {waiting_at}: {seen}")
        await asyncio.sleep(POLL_SECONDS)
    return seen


async def decide(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    run_id: str,
    step: str,
    **decision: Any,
) -> httpx.Response:
    """Post a decision on the run's approval at `step`."""
    return await client.post(
        f"{API}/workflow-runs/{run_id}/approvals/{step}", json=decision, headers=headers
    )
