"""A run's events over a real uvicorn server: numbered, resumable with Last-Event-ID."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app.ai.workflows.examples import SOFTWARE_DELIVERY
from app.core.config import Settings
from tests.support.live_server import running_server

pytestmark = pytest.mark.slow

API = "/api/v1"


@pytest.fixture(scope="module")
def base_url(settings: Settings) -> Iterator[str]:
    with running_server(settings) as url:
        yield url


def _sign_in(http: httpx.Client) -> dict[str, str]:
    email = f"events-{uuid.uuid4().hex[:12]}@example.com"
    password = "correct-horse-42"
    http.post(f"{API}/auth/register", json={"email": email, "password": password})
    tokens = http.post(f"{API}/auth/login", data={"username": email, "password": password})
    return {"Authorization": f"Bearer {tokens.json()['access_token']}"}


def _pipeline(http: httpx.Client, headers: dict[str, str]) -> str:
    ids = {}
    for agent in SOFTWARE_DELIVERY.agents:
        created = http.post(
            f"{API}/agents",
            json={"name": agent.name, "provider": "scripted", "model": "scripted"},
            headers=headers,
        )
        ids[agent.key] = uuid.UUID(created.json()["id"])
    workflow = http.post(
        f"{API}/workflows",
        json={"name": "pipeline", "steps": SOFTWARE_DELIVERY.steps(ids)},
        headers=headers,
    )
    assert workflow.status_code == 201, workflow.text
    workflow_id: str = workflow.json()["id"]
    return workflow_id


def _read_until(
    http: httpx.Client, url: str, headers: dict[str, str], name: str
) -> list[tuple[int, str, Any]]:
    """(id, event, data) of the stored events up to and including the first called `name`.

    Agent deltas (sent without an id) are left out; `_deltas_of` reads them.
    """
    return [event for event in _read_all(http, url, headers, name) if event[1] != "agent.delta"]


def _read_all(
    http: httpx.Client, url: str, headers: dict[str, str], name: str
) -> list[tuple[int, str, Any]]:
    """Every event of the stream up to the first called `name`; a delta's id is 0."""
    seen: list[tuple[int, str, Any]] = []
    event_id, event = 0, ""
    with http.stream("GET", url, headers=headers) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("id:"):
                event_id = int(line[3:].strip())
            elif line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                seen.append((event_id, event, json.loads(line[5:])))
                if event == name:
                    return seen
            elif not line:
                event_id, event = 0, ""
    return seen


def test_a_stream_resumes_after_the_last_event_it_saw(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as http:
        headers = _sign_in(http)
        workflow_id = _pipeline(http, headers)
        run = http.post(
            f"{API}/workflows/{workflow_id}/runs", json={"input": "Shop\nPASS"}, headers=headers
        ).json()
        events_url = f"{API}/workflow-runs/{run['id']}/events"

        first = _read_until(http, events_url, headers, "approval.requested")
        assert [name for _, name, _ in first] == [
            "run.started",
            "step.started",
            "step.completed",
            "approval.requested",
        ]
        assert first[-1][2]["step"] == "review_stories"
        last_seen = first[-1][0]

        decided = http.post(
            f"{API}/workflow-runs/{run['id']}/approvals/review_stories",
            json={"approve": True},
            headers=headers,
        )
        assert decided.status_code == 200, decided.text
        deadline = time.monotonic() + 10
        resumed = _read_until(
            http, events_url, {**headers, "Last-Event-ID": str(last_seen)}, "approval.requested"
        )
        assert time.monotonic() < deadline
        assert resumed[0][0] == last_seen + 1
        assert resumed[0][1] == "approval.decided"
        assert resumed[-1][2]["step"] == "review_release"
        http.post(
            f"{API}/workflow-runs/{run['id']}/approvals/review_release",
            json={"approve": True},
            headers=headers,
        )
        rest = _read_until(
            http, events_url, {**headers, "Last-Event-ID": str(resumed[-1][0])}, "run.completed"
        )
        # Once the run has ended, a stream replays everything and closes by itself.
        replay = _read_until(http, events_url, headers, "no such event")

    ids = [event_id for event_id, _, _ in first + resumed + rest]
    assert ids == list(range(1, len(ids) + 1))
    assert rest[-1][1] == "run.completed"
    assert replay == first + resumed + rest
    assert rest[-1][2]["output"].endswith("PASS")


def _steps_text(events: list[tuple[int, str, Any]]) -> dict[str, str]:
    """Each agent step's deltas joined, checked to fall between its start and completion."""
    texts: dict[str, str] = {}
    running: dict[str, str] = {}
    for _, name, data in events:
        if name == "step.started" and "execution_id" in data:
            running[data["execution_id"]] = data["step"]
        elif name == "agent.delta":
            assert running.get(data["execution_id"]) == data["step"], data
            texts[data["step"]] = texts.get(data["step"], "") + data["text"]
        elif name == "step.completed" and "execution_id" in data:
            assert running.pop(data["execution_id"]) == data["step"]
            assert texts.get(data["step"]) == data["output"], data["step"]
    return texts


def test_an_agent_steps_text_streams_between_its_start_and_its_completion(
    base_url: str,
) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as http:
        headers = _sign_in(http)
        workflow_id = _pipeline(http, headers)
        run = http.post(
            f"{API}/workflows/{workflow_id}/runs", json={"input": "Shop\nPASS"}, headers=headers
        ).json()
        events_url = f"{API}/workflow-runs/{run['id']}/events"
        first = _read_all(http, events_url, headers, "approval.requested")
        analyst_started = next(event_id for event_id, name, _ in first if name == "step.started")
        # Resumed inside the step: its text comes again, from the beginning.
        resumed = _read_all(
            http, events_url, {**headers, "Last-Event-ID": str(analyst_started)}, "step.completed"
        )

    assert [name for _, name, _ in first].count("agent.delta") > 1
    completed = next(data for _, name, data in first if name == "step.completed")
    assert _steps_text(first) == {"analyst": completed["output"]}
    assert [name for _, name, _ in resumed][-1] == "step.completed"
    assert {name for _, name, _ in resumed[:-1]} == {"agent.delta"}
    assert "".join(data["text"] for _, _, data in resumed[:-1]) == completed["output"]
