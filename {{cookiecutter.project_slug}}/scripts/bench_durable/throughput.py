"""Runs per second that 1, 2 and 4 worker processes complete behind one API process.

Each count gets fresh processes on the same database and Redis: one API process
(`RUN_ROLE=api`) takes background runs (202) from a few users, and N workers
(`python -m app.worker`, each with MAX_CONCURRENT_RUNS) take them from the queue. The
clock runs from the first request to the moment every run is stored as ended.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx

from scripts.bench.client import new_agent, sign_in
from scripts.serving import Served, start, start_worker, stop, wait_ready

MESSAGE = "!sleep 0.5\nhello"
WORKER_RUNS = 8
USERS = 4
SUBMITTING_AT_ONCE = 16
POLL_SECONDS = 0.1
DEADLINE_SECONDS = 600.0


@dataclass(frozen=True)
class Throughput:
    """What one worker count came to."""

    workers: int
    runs: int
    completed: int
    failed: int
    seconds: float

    @property
    def per_second(self) -> float:
        """Completed runs per second."""
        return self.completed / self.seconds if self.seconds else 0.0


def measure(env: dict[str, str], folder: Path, workers: int, runs: int) -> Throughput:
    """Serve one API process and `workers` workers, put `runs` runs through them."""
    with ExitStack() as stack:
        api_env = {**env, "RUN_ROLE": "api"}
        api = start(
            "app.main:create_app", factory=True, env=api_env, log=folder / "api.log", cwd=folder
        )
        stack.callback(stop, api)
        wait_ready(api)  # first, alone: it brings the fresh database up to date
        crew: list[Served] = []
        for number in range(workers):
            worker_env = {**env, "RUN_ROLE": "worker", "MAX_CONCURRENT_RUNS": str(WORKER_RUNS)}
            log = folder / f"worker-{workers}-{number}.log"
            crew.append(start_worker(env=worker_env, log=log, cwd=folder))
            stack.callback(stop, crew[-1])
        for worker in crew:
            wait_ready(worker)
        return asyncio.run(_put_through(api.url, workers, runs))


async def _put_through(url: str, workers: int, runs: int) -> Throughput:
    """Submit the runs spread over USERS users; wait until each is stored as ended."""
    users = []
    for _ in range(USERS):
        _, token = await sign_in(url)
        users.append(({"Authorization": f"Bearer {token}"}, await new_agent(url, token)))
    limits = httpx.Limits(max_connections=SUBMITTING_AT_ONCE)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        gate = asyncio.Semaphore(SUBMITTING_AT_ONCE)

        async def submit(number: int) -> None:
            headers, execute = users[number % USERS]
            async with gate:
                body = {"message": MESSAGE, "background": True}
                answer = await http.post(execute, json=body, headers=headers)
            if answer.status_code != 202:
                raise RuntimeError(f"a run was refused: {answer.status_code} {answer.text}")

        started = time.perf_counter()
        await asyncio.gather(*(submit(number) for number in range(runs)))
        deadline = started + DEADLINE_SECONDS
        completed = failed = 0
        while completed + failed < runs and time.perf_counter() < deadline:
            await asyncio.sleep(POLL_SECONDS)
            completed = await _count(http, users, "completed")
            failed = await _count(http, users, "failed")
        seconds = time.perf_counter() - started
    return Throughput(workers, runs, completed, failed, seconds)


async def _count(
    http: httpx.AsyncClient, users: list[tuple[dict[str, str], str]], status: str
) -> int:
    """How many of the users' executions are stored in `status`."""
    total = 0
    for headers, _ in users:
        page = await http.get(
            "/api/v1/executions", params={"status": status, "limit": 1}, headers=headers
        )
        page.raise_for_status()
        total += int(page.json()["total"])
    return total
