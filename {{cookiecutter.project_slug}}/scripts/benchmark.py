"""Measure the run manager's own cost per turn and the time to the first streamed event.

Runs against the offline scripted provider, which answers instantly, so every
millisecond reported is the service's: persistence, history, events, HTTP.

    make bench                                  # temporary SQLite file
    DATABASE_URL=postgresql+asyncpg://... python -m scripts.benchmark --runs 300
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from app.ai.providers.base import ChatMessage, CompletionRequest, Role
from app.ai.providers.scripted import ScriptedProvider
from app.ai.runs import RunManager
from app.core.config import Settings
from app.crud import agent as agent_crud
from app.crud import user as user_crud
from app.main import create_app
from app.models import Agent
from app.schemas.agent import AgentCreate


def percentiles(samples: list[float]) -> str:
    """Median and 95th percentile: the tail is what users of a stream notice."""
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"p50 {p50:7.3f} ms   p95 {p95:7.3f} ms   (n={len(ordered)})"


async def provider_only(runs: int) -> list[float]:
    """One scripted turn with no persistence: the floor a run adds to."""
    provider = ScriptedProvider()
    request = CompletionRequest(
        model="scripted", messages=(ChatMessage(role=Role.USER, content="hello"),)
    )
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await provider.complete(request)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def run_turns(settings: Settings, runs: int) -> tuple[list[float], list[float]]:
    """Whole runs through the run manager: (plain one-turn runs, per-turn time of tool runs)."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        run_manager: RunManager = app.state.runs
        async with app.state.database.transaction() as session:
            user = await user_crud.create(
                session,
                email=f"bench-{time.time_ns()}@example.com",
                hashed_password="unusable",  # noqa: S106
            )
            agent: Agent = await agent_crud.create(
                session,
                owner_id=user.id,
                data=AgentCreate(
                    name="bench", provider="scripted", model="scripted", tools=["calculator"]
                ),
            )
        plain, tool_turns = [], []
        for _ in range(runs):
            started = time.perf_counter()
            prepared = await run_manager.prepare(user_id=user.id, agent=agent, message="hello")
            await run_manager.run(prepared)
            plain.append((time.perf_counter() - started) * 1000)
        for _ in range(runs):
            started = time.perf_counter()
            prepared = await run_manager.prepare(
                user_id=user.id, agent=agent, message='!tool calculator {"expression": "6*7"}'
            )
            await run_manager.run(prepared)
            tool_turns.append((time.perf_counter() - started) * 1000 / 2)
    return plain, tool_turns


async def first_event(settings: Settings, runs: int) -> list[float]:
    """Request sent to first SSE byte received, over real uvicorn and TCP."""
    from tests.support.live_server import running_server

    samples = []
    with running_server(settings) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            email = f"sse-{time.time_ns()}@example.com"
            await http.post(
                "/api/v1/auth/register", json={"email": email, "password": "bench-pass-123"}
            )
            token = (
                await http.post(
                    "/api/v1/auth/login", data={"username": email, "password": "bench-pass-123"}
                )
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            agent = (
                await http.post(
                    "/api/v1/agents",
                    json={"name": "sse", "provider": "scripted", "model": "scripted"},
                    headers=headers,
                )
            ).json()
            for _ in range(runs):
                started = time.perf_counter()
                async with http.stream(
                    "POST",
                    f"/api/v1/agents/{agent['id']}/execute",
                    json={"message": "hello", "stream": True},
                    headers=headers,
                ) as response:
                    first_seen = False
                    async for _chunk in response.aiter_raw():
                        if not first_seen:
                            samples.append((time.perf_counter() - started) * 1000)
                            first_seen = True
    return samples


def main() -> None:
    """Measure on a scratch database and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            _env_file=None,
            environment="test",
            database_url=os.environ.get(
                "DATABASE_URL", f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            ),
            log_level="WARNING",
            auth_rate_limit="100000/minute",
            tools_sandbox_dir=Path(tmp) / "sandbox",
        )
        print(f"database: {settings.database_url.split('://')[0]}")
        floor = asyncio.run(provider_only(args.runs))
        plain, tool_turns = asyncio.run(run_turns(settings, args.runs))
        sse = asyncio.run(first_event(settings, min(args.runs, 100)))
    print(f"provider only (no database)        {percentiles(floor)}")
    print(f"full run, 1 turn (with writes)     {percentiles(plain)}")
    print(f"full run, per turn of a tool run   {percentiles(tool_turns)}")
    print(f"request to first SSE event         {percentiles(sse)}")
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory               {peak_mib:7.1f} MiB (server and client together)")


if __name__ == "__main__":
    main()
