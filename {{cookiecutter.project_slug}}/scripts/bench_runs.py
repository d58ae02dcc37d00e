"""Measure what one worker does with many runs: where it sheds, how fast, how slow, and leaks.

Starts the service in its own uvicorn process (one worker) on a temporary SQLite file, or
on DATABASE_URL{% if cookiecutter.use_redis %} (and REDIS_URL){% endif %} when set, with the offline scripted provider, and
prints:

- the most runs one worker holds at once before it sheds (answers 503), and the
  throughput of instant runs with that many in flight;
- p50/p95/p99 latency of instant runs with 10, 50 and 200 in flight;
- the server's resident memory before and after N sequential runs, as a leak check.

It prints figures only and asserts nothing.

    make bench-runs
    make bench-runs ARGS="--sequential 2000"
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from scripts.serving import rss_mb, serving

PASSWORD = "bench-password-42"  # noqa: S105 - a throwaway account of this run's own server
# Runs that last this long overlap, so a burst of them shows how many a worker holds at once.
HOLD_SECONDS = 2.0
BURST_SIZE = 400
IN_FLIGHT_LEVELS = (10, 50, 200)
REQUESTS_PER_LEVEL = 600


async def sign_in(http: httpx.AsyncClient) -> tuple[dict[str, str], str]:
    """A fresh user's headers and a scripted agent of theirs."""
    email = f"bench-{uuid.uuid4().hex[:12]}@example.com"
    await http.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
    login = await http.post("/api/v1/auth/login", data={"username": email, "password": PASSWORD})
    login.raise_for_status()
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    agent = await http.post(
        "/api/v1/agents",
        json={"name": "bench", "provider": "scripted", "model": "scripted"},
        headers=headers,
    )
    agent.raise_for_status()
    return headers, str(agent.json()["id"])


class Runner:
    """Sends runs to one agent and times them."""

    def __init__(self, http: httpx.AsyncClient, headers: dict[str, str], agent_id: str) -> None:
        self.http = http
        self.headers = headers
        self.path = f"/api/v1/agents/{agent_id}/execute"

    async def run(self, message: str) -> tuple[str, float]:
        """How one run ended (completed, failed, shed, error) and the seconds it took."""
        started = time.perf_counter()
        try:
            response = await self.http.post(
                self.path, json={"message": message}, headers=self.headers
            )
        except httpx.TransportError:
            return "error", time.perf_counter() - started
        seconds = time.perf_counter() - started
        if response.status_code == 200:
            return str(response.json()["status"]), seconds
        return ("shed" if response.status_code in (429, 503) else "error"), seconds

    async def closed_loop(self, in_flight: int, total: int) -> Tally:
        """`total` instant runs kept `in_flight` at a time."""
        remaining = iter(range(total))
        tally = Tally()

        async def worker() -> None:
            for number in remaining:
                outcome, seconds = await self.run(f"run {number}")
                tally.outcomes[outcome] += 1
                if outcome == "completed":
                    tally.latencies.append(seconds)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(in_flight)))
        tally.seconds = time.perf_counter() - started
        return tally


@dataclass
class Tally:
    """What a stretch of runs came to: outcomes, latencies of completed runs, duration."""

    outcomes: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def throughput(self) -> float:
        """Completed runs per second."""
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def others(self) -> str:
        """Outcomes other than completed, e.g. `shed 12, failed 1`, or `none`."""
        rest = [f"{name} {count}" for name, count in sorted(self.outcomes.items())]
        return ", ".join(r for r in rest if not r.startswith("completed")) or "none"


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of `values` fall, in milliseconds."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] * 1000


async def measure(url: str, pid: int, sequential: int) -> None:
    """Run every measurement against the server at `url` and print the figures."""
    limits = httpx.Limits(max_connections=BURST_SIZE + 10, max_keepalive_connections=BURST_SIZE)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as http:
        headers, agent_id = await sign_in(http)
        runner = Runner(http, headers, agent_id)
        await runner.closed_loop(10, 50)  # warm-up: connections, caches, the first queries

        outcomes = Counter(
            outcome
            for outcome, _ in await asyncio.gather(
                *(runner.run(f"!sleep {HOLD_SECONDS}\nheld {n}") for n in range(BURST_SIZE))
            )
        )
        held = outcomes["completed"]
        print(f"Shedding: {BURST_SIZE} runs of {HOLD_SECONDS:g}s sent at once")
        print(
            f"  held at once (completed): {held}   "
            + ", ".join(
                f"{name} {count}" for name, count in sorted(outcomes.items()) if name != "completed"
            )
        )
        at_limit = await runner.closed_loop(max(held, 1), max(REQUESTS_PER_LEVEL, held))
        print(
            f"  throughput with {held} in flight: {at_limit.throughput:.0f} runs/s"
            f" (others: {at_limit.others()})"
        )

        print("Latency of instant runs (ms)")
        for in_flight in IN_FLIGHT_LEVELS:
            level = await runner.closed_loop(in_flight, REQUESTS_PER_LEVEL)
            print(
                f"  {in_flight:>4} in flight: p50 {percentile(level.latencies, 0.50):7.1f}"
                f"  p95 {percentile(level.latencies, 0.95):7.1f}"
                f"  p99 {percentile(level.latencies, 0.99):7.1f}"
                f"   {level.throughput:5.0f} runs/s   others: {level.others()}"
            )

        before = rss_mb(pid)
        sequence = await runner.closed_loop(1, sequential)
        after = rss_mb(pid)
        print(
            f"Memory over {sequential} sequential runs ({sequence.throughput:.0f} runs/s,"
            f" others: {sequence.others()})"
        )
        print(f"  RSS before {before:.1f} MB, after {after:.1f} MB ({after - before:+.1f} MB)")


def main() -> None:
    """Start the server, measure, and stop it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequential", type=int, default=20_000, help="runs for the leak check")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        env = {
            **os.environ,
            "DATABASE_URL": os.environ.get("DATABASE_URL")
            or f"sqlite+aiosqlite:///{folder}/bench.db",
{%- if cookiecutter.use_redis %}
            "REDIS_URL": os.environ.get("REDIS_URL", ""),
{%- endif %}
            "LOG_LEVEL": "ERROR",
            "AUTH_RATE_LIMIT": "100000/minute",
            # Per-user limits out of the way: this measures the worker, not one user's share.
            "MAX_CONCURRENT_RUNS_PER_USER": "100000",
            "USER_RUN_RATE_LIMIT": "100000000/minute",
        }
{%- if cookiecutter.use_redis %}
        print(f"Database: {env['DATABASE_URL'].split('://')[0]}   Redis: {bool(env['REDIS_URL'])}")
{%- else %}
        print(f"Database: {env['DATABASE_URL'].split('://')[0]}")
{%- endif %}
        with serving(
            "app.main:create_app",
            factory=True,
            env=env,
            log=Path(folder) / "server.log",
            flags=("--log-level", "warning"),
            ready_path="/health/ready",
        ) as server:
            asyncio.run(measure(server.url, server.pid, options.sequential))


if __name__ == "__main__":
    main()
