"""Commands run as `make` runs them: a real `python -m app.cli...` process on a fresh database."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from app.core.config import PROJECT_ROOT

RunCommand = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def command_database(tmp_path: Path) -> str:
    """A SQLite file the command creates and migrates itself."""
    return f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"


@pytest.fixture
def run_command(command_database: str) -> RunCommand:
    """`run_command("createadmin", stdin="...", ADMIN_EMAIL=...)` in a child process."""

    def run(name: str, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
        environment = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("ADMIN_", "FIRST_ADMIN_", "DATABASE_URL"))
        }
        environment |= {"DATABASE_URL": command_database, "ENVIRONMENT": "test", **env}
        return subprocess.run(  # noqa: S603 - this interpreter running the project's own module
            [sys.executable, "-m", f"app.cli.{name}", *args],
            cwd=PROJECT_ROOT,
            env=environment,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    return run
