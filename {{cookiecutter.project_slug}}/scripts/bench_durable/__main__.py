r"""Measure durable runs: overhead per step and per workflow, resume, throughput of workers.

    make bench-durable                          # SQLite: overhead and resume
    make bench-durable ARGS=--quick             # small counts (what CI runs)
    make bench-durable ARGS="--part resume"     # one part: overhead, workflow, resume, throughput
{%- if cookiecutter.database == "postgresql" %}
    BENCH_DATABASE_URL=postgresql+asyncpg://postgres@localhost:5432/postgres \
{%- if cookiecutter.use_redis %}
    BENCH_REDIS_URL=redis://localhost:6379/15 \
{%- endif %}
        make bench-durable                      # a scratch database on that server, dropped after
{%- endif %}

It prints one table per part and asserts nothing: targets are shown, not enforced.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from scripts.bench.environment import run_child, scratch_database, server_env
from scripts.bench_durable import report
from scripts.bench_durable.resume import resume_trials
{%- if cookiecutter.use_redis %}
from scripts.bench_durable.throughput import measure as throughput
{%- endif %}

PARTS = ("overhead", "workflow", "resume", "throughput")
WORKER_COUNTS = (1, 2, 4)
STARTED = time.monotonic()


@dataclass(frozen=True)
class Lengths:
    """How much each part does: `--quick` keeps the whole run to a minute or two."""

    pairs: int
    workflows: int
    kills: int
    runs: int

    @classmethod
    def of(cls, *, quick: bool) -> Lengths:
        """Small counts for CI, larger ones for figures worth quoting."""
        return cls(20, 5, 1, 40) if quick else cls(200, 30, 3, 160)


@dataclass(frozen=True)
class Bench:
    """What every part measures against: the environment, the stores, the lengths."""

    env: dict[str, str]
    folder: Path
    stores: str
    postgres: bool
    shared_store: bool
    lengths: Lengths
    quick: bool

    def title(self, part: str) -> str:
        """The line above a part's table: what, when, where."""
        now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
        return (
            f"make bench-durable{' --quick' if self.quick else ''}, {part}: {now},"
            f" {os.cpu_count()} cores, Python {platform.python_version()}, {self.stores}"
        )


def progress(message: str) -> None:
    """What is being measured now, on stderr: the tables alone go to stdout."""
    print(f"bench-durable: {time.monotonic() - STARTED:5.1f}s {message}", file=sys.stderr)


def overhead(bench: Bench) -> str:
    """Part 1: the same runs durable and plain, in a child process with the server's settings."""
    pairs = bench.lengths.pairs
    progress(f"overhead: {pairs} interleaved pairs per run kind")
    samples = run_child(
        "scripts.bench_durable.overhead", ["--runs", str(pairs)], env=bench.env, folder=bench.folder
    )
    title = f"{bench.title('overhead per run and per step, in-process')}, {pairs} pairs each"
    return report.overhead_table(title, samples, postgres=bench.postgres)


def workflow(bench: Bench) -> str:
    """Part 2: a pipeline of agent steps, its wall time beside its agent runs' own."""
    runs = bench.lengths.workflows
    progress(f"workflow: {runs} runs of a four-step pipeline")
    samples = run_child(
        "scripts.bench_durable.workflows", ["--runs", str(runs)], env=bench.env, folder=bench.folder
    )
    title = f"{bench.title('workflow overhead beyond its agent runs, in-process')}, {runs} runs"
    return report.workflow_table(title, samples, postgres=bench.postgres)


def resume(bench: Bench) -> str:
    """Part 3: kill the process executing a run and time its resumption elsewhere."""
    kills = bench.lengths.kills
    progress(f"resume: {kills} kills")
    trials = resume_trials(bench.env, bench.folder, kills, shared_store=bench.shared_store)
    layout = (
        "an API process streaming, a worker killed"
        if bench.shared_store
        else "one process (API and runs) killed, the stream taken up on its replacement"
    )
    title = f"{bench.title('kill -9 to resume')}, {layout}"
    return report.resume_table(title, trials, shared_store=bench.shared_store)


def throughput_part(bench: Bench) -> str:
    """Part 4: runs/s of 1, 2 and 4 workers; PostgreSQL and Redis only."""
    if not (bench.postgres and bench.shared_store):
{%- if cookiecutter.use_redis %}
        return "throughput: skipped: needs BENCH_DATABASE_URL and BENCH_REDIS_URL"
    results = []
    for workers in WORKER_COUNTS:
        progress(f"throughput: {bench.lengths.runs} runs on {workers} worker(s)")
        results.append(throughput(bench.env, bench.folder, workers, bench.lengths.runs))
    title = f"{bench.title('throughput of workers')}, {bench.lengths.runs} runs per count"
    return report.throughput_table(title, results)
{%- else %}
        return "throughput: skipped: needs several processes executing runs, which need Redis"
    return "throughput: skipped: this service was rendered without Redis"
{%- endif %}


MEASURES = {
    "overhead": overhead,
    "workflow": workflow,
    "resume": resume,
    "throughput": throughput_part,
}


def main() -> None:
    """Read the options, measure each part asked for, print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small counts (a minute or two)")
    parser.add_argument("--part", choices=PARTS, help="measure this part only")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", ""),
        help="{% if cookiecutter.database == 'postgresql' %}a PostgreSQL server to make a scratch database on{% else %}a database to use{% endif %} (BENCH_DATABASE_URL); a SQLite file otherwise",
    )
{%- if cookiecutter.use_redis %}
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", ""),
        help="Redis for leases, events and rate limits (BENCH_REDIS_URL); in-process otherwise",
    )
{%- endif %}
    options = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="bench-durable-") as scratch,
        scratch_database(options.database_url, Path(scratch)) as (database_url, label),
    ):
        # Per-user limits out of the way: these parts measure the engine, not one user's share.
        settings = {"DATABASE_URL": database_url, "MAX_CONCURRENT_RUNS_PER_USER": "100000"}
        shared_store = False
{%- if cookiecutter.use_redis %}
        if options.redis_url:
            settings["REDIS_URL"] = options.redis_url
            shared_store = True
{%- endif %}
        bench = Bench(
            env=server_env(Path(scratch), **settings),
            folder=Path(scratch),
            stores=label + (" + Redis" if shared_store else ""),
            postgres=label.startswith("PostgreSQL"),
            shared_store=shared_store,
            lengths=Lengths.of(quick=options.quick),
            quick=options.quick,
        )
        for part in (options.part,) if options.part else PARTS:
            print(MEASURES[part](bench), end="\n\n", flush=True)


if __name__ == "__main__":
    main()
