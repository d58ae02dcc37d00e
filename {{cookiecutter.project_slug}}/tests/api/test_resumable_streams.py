"""Resumable streams over a real uvicorn: a client that drops and reconnects misses nothing.

Each event carries an `id`; reconnecting with `Last-Event-ID`, to the events route or by
repeating the execute request with its Idempotency-Key, continues after that event.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app.core.config import Settings
from app.core.event_log import parse_id
from tests.support.live_server import running_server

pytestmark = pytest.mark.slow

# Two model calls around a tool call, each after a pause: the run is still going when the
# client drops after its first events.
SCRIPT = '!sleep 1\n!tool calculator {"expression": "6*7"}\nthe answer, word by word'
Event = tuple[str, str, Any]


@pytest.fixture(scope="module")
def base_url(settings: Settings) -> Iterator[str]:
    with running_server(settings) as url:
        yield url


@pytest.fixture
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        email = f"resume-{uuid.uuid4().hex}@example.com"
        password = "correct-horse-42"
        client.post("/api/v1/auth/register", json={"email": email, "password": password})
        tokens = client.post("/api/v1/auth/login", data={"username": email, "password": password})
        client.headers["Authorization"] = f"Bearer {tokens.json()['access_token']}"
        yield client


def _read(response: httpx.Response, limit: int | None = None) -> list[Event]:
    """(id, event, data) of each event in order, stopping after `limit` of them."""
    received: list[Event] = []
    fields: dict[str, str] = {}
    for line in response.iter_lines():
        if line:
            key, _, value = line.partition(":")
            if key:
                fields[key] = value.strip()
            continue
        if "data" in fields:
            received.append((fields.get("id", ""), fields["event"], json.loads(fields["data"])))
            if len(received) == limit:
                break
        fields = {}
    return received


def _agent(http: httpx.Client) -> str:
    response = http.post(
        "/api/v1/agents",
        json={
            "name": f"resumable-{uuid.uuid4().hex[:8]}",
            "provider": "scripted",
            "model": "scripted",
            "tools": ["calculator"],
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _all_events(http: httpx.Client, execution_id: str) -> list[Event]:
    with http.stream("GET", f"/api/v1/executions/{execution_id}/events") as response:
        return _read(response)


def _assert_in_order(events: list[Event]) -> None:
    ids = [parse_id(event_id) for event_id, _, _ in events]
    assert ids == sorted(set(ids)), "ids repeat or go backwards"


def test_reconnecting_to_the_events_route_resumes_after_the_last_event(
    http: httpx.Client,
) -> None:
    agent = _agent(http)
    with http.stream(
        "POST", f"/api/v1/agents/{agent}/execute", json={"message": SCRIPT, "stream": True}
    ) as response:
        before = _read(response, limit=2)
    execution_id = before[0][2]["execution_id"]
    status_at_reconnect = http.get(f"/api/v1/executions/{execution_id}").json()["status"]

    with http.stream(
        "GET",
        f"/api/v1/executions/{execution_id}/events",
        headers={"Last-Event-ID": before[-1][0]},
    ) as response:
        after = _read(response)

    assert status_at_reconnect in ("pending", "running")
    assert before[0][1] == "execution.started"
    assert "tool.result" in [name for _, name, _ in after]
    assert before + after == _all_events(http, execution_id)
    _assert_in_order(before + after)
    assert after[-1][1] == "execution.completed"
    assert "42" in after[-1][2]["output"]
    names = [name for _, name, _ in after]
    last_turn = after[names.index("tool.result") + 1 :]
    answer = "".join(data["text"] for _, name, data in last_turn if name == "message.delta")
    assert answer == after[-1][2]["output"]


def test_repeating_the_execute_request_with_its_key_resumes_the_same_stream(
    http: httpx.Client,
) -> None:
    agent = _agent(http)
    request: dict[str, Any] = {"json": {"message": SCRIPT, "stream": True}}
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    url = f"/api/v1/agents/{agent}/execute"
    with http.stream("POST", url, headers=headers, **request) as response:
        before = _read(response, limit=3)
    resumed_headers = {**headers, "Last-Event-ID": before[-1][0]}
    with http.stream("POST", url, headers=resumed_headers, **request) as response:
        replayed = response.headers.get("idempotent-replayed")
        after = _read(response)

    execution_id = before[0][2]["execution_id"]
    assert replayed == "true"
    assert before + after == _all_events(http, execution_id)
    _assert_in_order(before + after)
    assert after[-1][1] == "execution.completed"
    executions = http.get("/api/v1/executions", params={"agent_id": agent}).json()
    assert executions["total"] == 1


def test_a_stream_reconnected_many_times_still_misses_nothing(http: httpx.Client) -> None:
    agent = _agent(http)
    with http.stream(
        "POST", f"/api/v1/agents/{agent}/execute", json={"message": SCRIPT, "stream": True}
    ) as response:
        received = _read(response, limit=1)
    execution_id = received[0][2]["execution_id"]
    deadline = time.monotonic() + 30
    while received[-1][1] not in ("execution.completed", "execution.failed"):
        assert time.monotonic() < deadline, "the run did not end in time"
        with http.stream(
            "GET",
            f"/api/v1/executions/{execution_id}/events",
            headers={"Last-Event-ID": received[-1][0]},
        ) as response:
            received += _read(response, limit=1)

    assert received == _all_events(http, execution_id)
    _assert_in_order(received)


def test_a_last_event_id_that_is_not_an_id_is_a_422(http: httpx.Client) -> None:
    agent = _agent(http)
    done = http.post(f"/api/v1/agents/{agent}/execute", json={"message": "hi"}).json()

    response = http.get(
        f"/api/v1/executions/{done['id']}/events", headers={"Last-Event-ID": "yesterday"}
    )

    assert response.status_code == 422
    assert "Last-Event-ID" in response.text
