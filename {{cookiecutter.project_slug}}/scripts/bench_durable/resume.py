"""Time from `kill -9` of the process executing a run to the run going on in a new one.

With Redis, an API process (`RUN_ROLE=api`) streams the run while a worker executes it;
the worker's process group is killed once the tool has answered and a replacement is
started at once, and the still-open stream shows when the run goes on and ends. Without
Redis, leases and events live in each process, so one process does both (`RUN_ROLE=both`)
and the stream is taken up again on its replacement with `Last-Event-ID`.
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path

import httpx

from app.ai.runs.events import EXECUTION_STARTED, FINAL_EVENTS, TOOL_RESULT
from scripts.bench.client import new_agent, sign_in
from scripts.serving import Served, kill_group, start, start_worker, stop, wait_ready

# Each model call sleeps 1 s: the second is in flight when the worker is killed.
MESSAGE = '!sleep 1\n!tool calculator {"expression": "6*7"}'
LEASE_SECONDS = 3
SWEEP_SECONDS = 0.5
SETTINGS = {"RUN_LEASE_SECONDS": str(LEASE_SECONDS), "SWEEP_INTERVAL_SECONDS": str(SWEEP_SECONDS)}
RUN_SECONDS = 120.0


@dataclass(frozen=True)
class Trial:
    """One kill: seconds to the run's next event, to its end, and to the replacement's start-up."""

    next_event: float
    ended: float
    outcome: str
    start_up: float = math.nan


def events_of(response: httpx.Response) -> Iterator[tuple[str, str, str]]:
    """The stream's events as (id, name, data), each once its blank line arrives."""
    event_id = name = data = ""
    for line in response.iter_lines():
        if not line:
            if name:
                yield event_id, name, data
            name = data = ""
        elif line.startswith("id:"):
            event_id = line[3:].strip()
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data += line[5:].strip()


class Cluster:
    """The processes of one trial series: who serves the stream and who executes the run."""

    def __init__(self, env: dict[str, str], folder: Path, *, shared_store: bool) -> None:
        self.env = {**env, **SETTINGS}
        self.folder = folder
        self.shared_store = shared_store
        self.api = self._serve("api") if shared_store else None
        self.executor: Served | None = None
        self.replacement_ready = math.nan
        self._timer: threading.Thread | None = None
        try:
            if self.api is not None:
                wait_ready(self.api)  # first, alone: it brings the fresh database up to date
            self.executor = self._executor()
            wait_ready(self.executor)
        except BaseException:
            self.close()
            raise

    def _serve(self, role: str, *, own_group: bool = False) -> Served:
        """The service in its own uvicorn process, with RUN_ROLE=`role`."""
        env = {**self.env, "RUN_ROLE": role}
        log = self.folder / f"resume-{role}.log"
        return start(
            "app.main:create_app",
            factory=True,
            env=env,
            log=log,
            cwd=self.folder,
            own_group=own_group,
        )

    def _executor(self) -> Served:
        """A worker with Redis; without it, a process that serves the API too."""
        if self.shared_store:
            env = {**self.env, "RUN_ROLE": "worker"}
            return start_worker(env=env, log=self.folder / "resume-worker.log", cwd=self.folder)
        return self._serve("both", own_group=True)

    @property
    def url(self) -> str:
        """Where the client streams from."""
        served = self.api or self.executor
        assert served is not None
        return served.url

    def crash(self) -> float:
        """Kill the executing process group, start its replacement at once; when it was killed.

        The replacement's start-up (launch to /health) is timed in a thread meanwhile.
        """
        assert self.executor is not None
        kill_group(self.executor)
        killed = time.perf_counter()
        self.executor = replacement = self._executor()

        def time_start_up() -> None:
            self.replacement_ready = wait_ready(replacement)

        self._timer = threading.Thread(target=time_start_up, daemon=True)
        self._timer.start()
        return killed

    def start_up_seconds(self) -> float:
        """How long the last replacement took to answer /health."""
        if self._timer is not None:
            self._timer.join()
        return self.replacement_ready

    def close(self) -> None:
        """Stop every process still running."""
        for served in (self.executor, self.api):
            if served is not None:
                stop(served)


def trial(cluster: Cluster, execute: str, token: str) -> Trial:
    """Stream one run, kill its executor after the tool result, time the rest."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=cluster.url, timeout=RUN_SECONDS, headers=headers) as http:
        body = {"message": MESSAGE, "stream": True}
        with http.stream("POST", execute, json=body) as response:
            response.raise_for_status()
            seen = events_of(response)
            execution_id = last_id = ""
            for event_id, name, data in seen:
                last_id = event_id
                if name == EXECUTION_STARTED:
                    execution_id = json.loads(data)["execution_id"]
                if name == TOOL_RESULT:
                    break
            killed = cluster.crash()
            if cluster.shared_store:
                return replace(_rest(seen, killed), start_up=cluster.start_up_seconds())
    start_up = cluster.start_up_seconds()
    with (
        httpx.Client(base_url=cluster.url, timeout=RUN_SECONDS, headers=headers) as http,
        http.stream(
            "GET",
            f"/api/v1/executions/{execution_id}/events",
            headers={"Last-Event-ID": last_id},
        ) as response,
    ):
        response.raise_for_status()
        return replace(_rest(events_of(response), killed), start_up=start_up)


def _rest(seen: Iterator[tuple[str, str, str]], killed: float) -> Trial:
    """Read the stream to the run's end; seconds from the kill to its next and final event."""
    next_event = None
    for _, name, _ in seen:
        now = time.perf_counter()
        next_event = next_event or now
        if name in FINAL_EVENTS:
            return Trial(next_event - killed, now - killed, name.removeprefix("execution."))
    raise RuntimeError("the stream ended without the run's outcome")


def resume_trials(
    env: dict[str, str], folder: Path, trials: int, *, shared_store: bool
) -> list[Trial]:
    """`trials` kills in a row, each of the process that took over after the one before."""
    with closing(Cluster(env, folder, shared_store=shared_store)) as cluster:
        _, token = asyncio.run(sign_in(cluster.url))
        execute = asyncio.run(new_agent(cluster.url, token, tools=["calculator"]))
        return [trial(cluster, execute, token) for _ in range(trials)]
