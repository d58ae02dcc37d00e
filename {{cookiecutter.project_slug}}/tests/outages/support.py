"""What the outage tests do to a running service: sign in, run an agent, record answers."""

from __future__ import annotations

import queue
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.support.runs import parse_sse

PASSWORD = "correct-horse-42"


@dataclass
class Client:
    """An HTTP client that remembers every status it got, to prove none was a 500."""

    http: httpx.Client
    statuses: list[tuple[str, int]] = field(default_factory=list)

    def request(self, method: str, url: str, **options: Any) -> httpx.Response:
        response = self.http.request(method, url, **options)
        self.statuses.append((f"{method} {url}", response.status_code))
        return response

    def server_errors(self) -> list[tuple[str, int]]:
        """Every answer in the 5xx range other than a 503."""
        return [(call, code) for call, code in self.statuses if code >= 500 and code != 503]

    def sign_up(self) -> tuple[str, dict[str, Any]]:
        """A new account's email and its first token pair."""
        email = f"outage-{uuid.uuid4().hex[:12]}@example.com"
        registered = self.request(
            "POST", "/api/v1/auth/register", json={"email": email, "password": PASSWORD}
        )
        assert registered.status_code == 201, registered.text
        return email, self.log_in(email).json()

    def log_in(self, email: str) -> httpx.Response:
        return self.request(
            "POST", "/api/v1/auth/login", data={"username": email, "password": PASSWORD}
        )


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


class StreamedRun:
    """A run executed with `stream: true` in a thread, so the test can act while it runs."""

    def __init__(self, base_url: str, headers: dict[str, str], agent_id: str, message: str):
        self._started: queue.Queue[str] = queue.Queue()
        self.events: list[tuple[str, Any]] = []
        self._thread = threading.Thread(
            target=self._read, args=(base_url, headers, agent_id, message), daemon=True
        )
        self._thread.start()

    def execution_id(self, timeout: float = 30.0) -> str:
        """The id from the first event, once the run has started."""
        return self._started.get(timeout=timeout)

    def finish(self, timeout: float = 60.0) -> list[tuple[str, Any]]:
        """Every event the stream carried, once it ended."""
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the run's stream never ended"
        return self.events

    def _read(self, base_url: str, headers: dict[str, str], agent_id: str, message: str) -> None:
        body = {"message": message, "stream": True}
        with (
            httpx.Client(base_url=base_url, timeout=60) as http,
            http.stream(
                "POST", f"/api/v1/agents/{agent_id}/execute", json=body, headers=headers
            ) as response,
        ):
            buffer = ""
            for chunk in response.iter_text():
                buffer += chunk.replace("\r\n", "\n")
                *blocks, buffer = buffer.split("\n\n")
                for name, data in parse_sse("\n\n".join(blocks)):
                    self.events.append((name, data))
                    if name == "execution.started":
                        self._started.put(str(data["execution_id"]))


def scripted_agent(client: Client, headers: dict[str, str]) -> str:
    """An agent on the offline scripted provider; `!sleep N` keeps its run going N seconds."""
    created = client.request(
        "POST",
        "/api/v1/agents",
        json={"name": "outage", "provider": "scripted", "model": "scripted"},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])
