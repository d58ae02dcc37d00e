"""Closed-loop HTTP load at a fixed concurrency: wrk when installed, else a bounded httpx client.

Both give requests per second and the p50/p99 latency of one stretch of load on one
route, and count answers that were not 2xx, so a figure never rests on fast refusals.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from scripts.bench.table import percentile

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_DURATION = r"([\d.]+)(us|ms|s|m|h)"


@dataclass(frozen=True)
class Load:
    """What one stretch of load shows."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    failures: int

    @property
    def per_second(self) -> float:
        """Answered requests per second."""
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class Generator:
    """How load is made: `wrk -tTHREADS -cCONNECTIONS`, or the Python client at CONNECTIONS."""

    connections: int = 32
    threads: int = 2
    wrk: str | None = None

    @classmethod
    def choose(cls, kind: str, connections: int, threads: int) -> Generator:
        """`auto` uses wrk when it is on PATH; `wrk` insists on it; `python` never uses it."""
        found = shutil.which("wrk") if kind != "python" else None
        if kind == "wrk" and found is None:
            raise SystemExit("--load wrk: wrk is not on PATH")
        return cls(connections, threads, found)

    def describe(self) -> str:
        """The generator as the table's title names it."""
        if self.wrk:
            return f"wrk -t{self.threads} -c{self.connections} --latency"
        return f"Python httpx client, {self.connections} connections"

    def run(self, url: str, seconds: float, headers: Mapping[str, str] | None = None) -> Load:
        """GET `url` for `seconds` with every connection busy."""
        if self.wrk:
            return run_wrk(self.wrk, url, seconds, self.threads, self.connections, headers or {})
        return asyncio.run(run_python(url, seconds, self.connections, headers or {}))


def run_wrk(
    wrk: str, url: str, seconds: float, threads: int, connections: int, headers: Mapping[str, str]
) -> Load:
    """One wrk run, its output parsed."""
    command = [wrk, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    done = subprocess.run(  # noqa: S603 - wrk from PATH, fixed arguments
        [*command, url], capture_output=True, text=True, check=True, timeout=seconds + 60
    )
    return parse_wrk(done.stdout)


def parse_wrk(output: str) -> Load:
    """Requests, duration, p50, p99 and failures from `wrk --latency` output."""
    total = re.search(r"(\d+) requests in " + _DURATION, output)
    p50 = re.search(r"^\s*50%\s+" + _DURATION, output, re.MULTILINE)
    p99 = re.search(r"^\s*99%\s+" + _DURATION, output, re.MULTILINE)
    if not (total and p50 and p99):
        raise ValueError(f"not wrk --latency output:\n{output}")
    failures = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    failed = int(failures.group(1)) if failures else 0
    failed += sum(int(count) for count in errors.groups()) if errors else 0
    return Load(
        requests=int(total.group(1)),
        seconds=_milliseconds(total.group(2), total.group(3)) / 1000,
        p50_ms=_milliseconds(p50.group(1), p50.group(2)),
        p99_ms=_milliseconds(p99.group(1), p99.group(2)),
        failures=failed,
    )


def _milliseconds(number: str, unit: str) -> float:
    return float(number) * _UNITS[unit]


async def run_python(
    url: str, seconds: float, connections: int, headers: Mapping[str, str]
) -> Load:
    """`connections` tasks each sending one request after another until time is up."""
    latencies: list[float] = []
    failures = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, headers=dict(headers), timeout=30) as http:
        started = time.perf_counter()
        deadline = started + seconds

        async def worker() -> None:
            nonlocal failures
            while time.perf_counter() < deadline:
                sent = time.perf_counter()
                try:
                    response = await http.get(url)
                    ok = response.is_success
                except httpx.TransportError:
                    ok = False
                if ok:
                    latencies.append((time.perf_counter() - sent) * 1000)
                else:
                    failures += 1

        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    return Load(
        requests=len(latencies) + failures,
        seconds=elapsed,
        p50_ms=percentile(latencies, 0.50),
        p99_ms=percentile(latencies, 0.99),
        failures=failures,
    )
