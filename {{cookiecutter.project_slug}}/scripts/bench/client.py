"""The benchmark's client side: an account through the API, streamed runs, a burst of logins."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence

import httpx

from scripts.bare_app import PASSWORD


async def sign_in(url: str) -> tuple[str, str]:
    """Register a fresh account through our API and log in: (its email, a bearer token)."""
    email = f"bench-{uuid.uuid4().hex[:12]}@example.com"
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        registered = await http.post(
            "/api/v1/auth/register", json={"email": email, "password": PASSWORD}
        )
        registered.raise_for_status()
        return email, await log_in(http, email)


async def log_in(http: httpx.AsyncClient, email: str) -> str:
    """One login with the OAuth2 password form; its access token."""
    answer = await http.post("/api/v1/auth/login", data={"username": email, "password": PASSWORD})
    answer.raise_for_status()
    token: str = answer.json()["access_token"]
    return token


async def new_agent(url: str, token: str, tools: Sequence[str] = ()) -> str:
    """A scripted agent of the account's, with `tools`: its execute path, answered instantly."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        agent = await http.post(
            "/api/v1/agents",
            json={
                "name": f"bench-{uuid.uuid4().hex[:8]}",
                "provider": "scripted",
                "model": "scripted",
                "tools": list(tools),
            },
            headers={"Authorization": f"Bearer {token}"},
        )
        agent.raise_for_status()
        return f"/api/v1/agents/{agent.json()['id']}/execute"


async def first_events(
    targets: dict[str, tuple[str, str, str]], count: int
) -> dict[str, list[float]]:
    """Request sent to first streamed byte, in ms, alternating between targets each time.

    `targets` maps a name to (base URL, path to POST, bearer token).
    """
    samples: dict[str, list[float]] = {name: [] for name in targets}
    clients = {
        name: httpx.AsyncClient(
            base_url=url, timeout=60, headers={"Authorization": f"Bearer {token}"}
        )
        for name, (url, _, token) in targets.items()
    }
    try:
        names = list(targets)
        for index in range(count + 3):  # the first few open connections and warm caches
            for name in names if index % 2 == 0 else names[::-1]:
                started = time.perf_counter()
                async with clients[name].stream(
                    "POST", targets[name][1], json={"message": "hello", "stream": True}
                ) as response:
                    response.raise_for_status()
                    first = None
                    async for _ in response.aiter_raw():  # to the end: the run completes
                        first = first or time.perf_counter()
                if index >= 3 and first is not None:
                    samples[name].append((first - started) * 1000)
    finally:
        for http in clients.values():
            await http.aclose()
    return samples


async def login_burst(url: str, email: str, count: int) -> list[str]:
    """`count` logins sent at once, each on its own connection; why each failed one failed."""
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as http:
        outcomes = await asyncio.gather(
            *(log_in(http, email) for _ in range(count)), return_exceptions=True
        )
    return [_why(outcome) for outcome in outcomes if isinstance(outcome, BaseException)]


def _why(error: BaseException) -> str:
    """An HTTP status, or the name of the transport error."""
    if isinstance(error, httpx.HTTPStatusError):
        return str(error.response.status_code)
    return type(error).__name__
