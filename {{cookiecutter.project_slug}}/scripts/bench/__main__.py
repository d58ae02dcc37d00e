r"""Measure the service beside a bare FastAPI app and print one table (`make bench`).

    make bench                          # SQLite, a few minutes
    make bench ARGS=--quick             # shorter runs, under a minute (what CI runs)
{%- if cookiecutter.database == "postgresql" %}
    BENCH_DATABASE_URL=postgresql+asyncpg://postgres@localhost:5432/postgres \
{%- if cookiecutter.use_redis %}
    BENCH_REDIS_URL=redis://localhost:6379/15 \
{%- endif %}
        make bench                      # a scratch database on that server, dropped after
{%- endif %}

It prints figures and asserts nothing: targets are shown beside them, not enforced.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import platform
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from scripts.bench.client import first_events, login_burst, new_agent, sign_in
from scripts.bench.environment import (
    APPS,
    Lengths,
    alternate,
    run_child,
    scratch_database,
    server_env,
)
from scripts.bench.figures import LOGINS, Results, rows
from scripts.bench.lag import LagServer
from scripts.bench.load import Generator
from scripts.bench.startup import cold_starts
from scripts.bench.table import render
from scripts.bench.throughput import load_rounds
from scripts.serving import Served, peak_rss_mb, start, stop, wait_ready

ROUTES = ("/health", "/api/v1/users/me")


STARTED = time.monotonic()


def progress(message: str) -> None:
    """What is being measured now, on stderr: the table alone goes to stdout."""
    print(f"bench: {time.monotonic() - STARTED:5.1f}s {message}", file=sys.stderr, flush=True)


def serve_and_load(
    generator: Generator, lengths: Lengths, env: dict[str, str], folder: Path, results: Results
) -> str:
    """Both apps up at once: load on each route, peak memory, first SSE events.

    Returns the email of the account made through our API, for the login bursts.
    """
    with ExitStack() as stack:
        servers: dict[str, Served] = {}
        for app in APPS:  # both start at once; neither is measured yet
            log = folder / f"{app.name}.log"
            servers[app.name] = start(app.spec, env=env, log=log, factory=app.factory, cwd=folder)
            stack.callback(stop, servers[app.name])
        for server in servers.values():
            wait_ready(server)
        email, token = asyncio.run(sign_in(servers["ours"].url))
        bearer = {
            "ours": {"Authorization": f"Bearer {token}"},
            "bare": {"Authorization": "Bearer x"},
        }
        for path in ROUTES:
            progress(f"{generator.describe()} on {path}, {lengths.rounds} rounds each")
            results.routes[path] = load_rounds(
                generator,
                {name: f"{server.url}{path}" for name, server in servers.items()},
                bearer if path != "/health" else {"ours": {}, "bare": {}},
                lengths,
                results.served,
            )
        results.peak_rss_mb = {name: peak_rss_mb(server.pid) for name, server in servers.items()}
        progress(f"first SSE event, {lengths.first_events} streamed runs each")
        execute = asyncio.run(new_agent(servers["ours"].url, token))
        results.first_events = asyncio.run(
            first_events(
                {
                    "ours": (servers["ours"].url, execute, token),
                    "bare": (servers["bare"].url, "/stream", "x"),
                },
                lengths.first_events,
            )
        )
    return email


def loop_lags(env: dict[str, str], folder: Path, email: str, rounds: int, results: Results) -> None:
    """Worst lag over `rounds` bursts of LOGINS logins at once, per app, and failed logins.

    `email` is an account of ours with the benchmark's password; the bare app takes any.
    """
    servers: dict[str, LagServer] = {}
    try:
        for app in APPS:
            servers[app.name] = LagServer(app, env, folder)
        for app in APPS:
            servers[app.name].wait_ready()
            # One login first: the thread pool, the bare app's hash, the first queries.
            results.login_failures[app.name] += asyncio.run(
                login_burst(servers[app.name].url, email, 1)
            )
        for index in range(rounds):
            for app in alternate(APPS, index):
                server = servers[app.name]
                server.start_recording()
                results.login_failures[app.name] += asyncio.run(
                    login_burst(server.url, email, LOGINS)
                )
                worst, _ = server.stop_recording()
                results.lag_ms[app.name] = max(results.lag_ms[app.name], worst)
    finally:
        for server in servers.values():
            server.close()


def measure(
    options: argparse.Namespace, generator: Generator, folder: Path, database: tuple[str, str]
) -> Results:
    """Every part in turn, against one scratch database: (its URL, its name)."""
    database_url, database_name = database
    lengths = Lengths.of(quick=options.quick)
    settings = {"DATABASE_URL": database_url}
{%- if cookiecutter.use_redis %}
    settings["REDIS_URL"] = options.redis_url
{%- endif %}
    env = server_env(folder, **settings)
    results = Results(
        database=database_name,
        cold_starts={},
        routes={},
        peak_rss_mb={},
        served={app.name: 0 for app in APPS},
        first_events={},
        turns={},
        lag_ms={app.name: 0.0 for app in APPS},
        login_failures={app.name: [] for app in APPS},
    )
    progress(f"cold start, {lengths.cold_starts} trials each")
    results.cold_starts = cold_starts(lengths.cold_starts, env, folder)
    email = serve_and_load(generator, lengths, env, folder, results)
    progress(f"agent turns in-process, {lengths.turns} each")
    results.turns = run_child(
        "scripts.bench.turns", ["--runs", str(lengths.turns)], env=env, folder=folder
    )
    progress(f"event-loop lag, {lengths.lag_rounds} bursts of {LOGINS} logins each")
    loop_lags(env, folder, email, lengths.lag_rounds, results)
    return results


def title(options: argparse.Namespace, generator: Generator, results: Results) -> str:
    """What was measured, where and when: the line above the table."""
    lengths = Lengths.of(quick=options.quick)
    stores = results.database
{%- if cookiecutter.use_redis %}
    stores += " + Redis" if options.redis_url else ""
{%- endif %}
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"make bench{' --quick' if options.quick else ''}: {now}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {stores}, one uvicorn worker per app\n"
        f"load: {generator.describe()}, {lengths.load_seconds:g} s x {lengths.rounds} rounds per app"
    )


NOTES = (
    "ours/bare: ours as a multiple of the bare app's figure; targets are shown, not enforced.",
    "ours: ENVIRONMENT=production, LOG_LEVEL=INFO, sign-in and run rate limits raised;"
    " bare: scripts/bare_app.py.",
    "engine overhead: a one-turn run minus a provider call timed beside it; loop-thread CPU"
    " leaves out the time spent waiting for the database.",
)


def main() -> None:
    """Read the options, measure, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs (under a minute)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", ""),
        help="{% if cookiecutter.database == 'postgresql' %}a PostgreSQL server to make a scratch database on{% else %}a database to use{% endif %} (BENCH_DATABASE_URL); a SQLite file otherwise",
    )
{%- if cookiecutter.use_redis %}
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", ""),
        help="Redis for the store and rate limits (BENCH_REDIS_URL); in-process otherwise",
    )
{%- endif %}
    parser.add_argument("--load", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    options = parser.parse_args()
    generator = Generator.choose(options.load, options.connections, options.threads)
    with (
        tempfile.TemporaryDirectory(prefix="bench-") as scratch,
        scratch_database(options.database_url, Path(scratch)) as database,
    ):
        results = measure(options, generator, Path(scratch), database)
    print(render(title(options, generator, results), rows(results), NOTES))


if __name__ == "__main__":
    main()
