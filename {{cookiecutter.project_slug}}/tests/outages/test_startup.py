"""Start-up with an unreachable database{% if cookiecutter.use_redis %} or Redis{% endif %}: bounded retries, one clear line, a failed exit."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from app.core.config import PROJECT_ROOT, Settings
from app.db.session import DatabaseUnreachableError, wait_for_database
from tests.support.app_process import child_environment, uvicorn_command
from tests.support.live_server import free_port

PASSWORD = "never-printed-pw"
EXIT_DEADLINE_SECONDS = 60.0
# uvicorn's status for "the application failed to start".
STARTUP_FAILURE = 3


def _unreachable_url(tmp_path: Path) -> tuple[str, str]:
    """A DATABASE_URL nothing answers at, and where the error line should say it points."""
{%- if cookiecutter.database == "postgresql" %}
    port = free_port()
    return f"postgresql+asyncpg://app:{PASSWORD}@127.0.0.1:{port}/app", f"127.0.0.1:{port}"
{%- else %}
    # Its folder cannot be made: a file already has that name.
    (tmp_path / "not-a-folder").write_text("")
    path = tmp_path / "not-a-folder" / "app.db"
    return f"sqlite+aiosqlite:///{path}", str(path)
{%- endif %}


def _serve(tmp_path: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], str, float]:
    """Run uvicorn against the unreachable database until it exits; its result and where."""
    url, location = _unreachable_url(tmp_path)
    env = child_environment(
        DATABASE_URL=url,
        DATABASE_CONNECT_ATTEMPTS="3",
        DATABASE_CONNECT_BACKOFF_SECONDS="0.1",
    )
    completed, elapsed = _run_until_exit(env, *extra)
    return completed, location, elapsed


def _run_until_exit(
    env: dict[str, str], *extra: str
) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run uvicorn with `env` until it exits: its result and how long it took."""
    started = time.monotonic()
    completed = subprocess.run(  # noqa: S603 - our own interpreter and uvicorn
        uvicorn_command(free_port(), *extra),
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=EXIT_DEADLINE_SECONDS,
        check=False,
    )
    return completed, time.monotonic() - started


def _error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if "DATABASE_URL" in line]


@pytest.mark.slow
def test_one_worker_exits_non_zero_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    completed, location, _ = _serve(tmp_path)
    output = completed.stdout + completed.stderr

    assert completed.returncode == STARTUP_FAILURE, output
    lines = _error_lines(output)
    assert len(lines) == 1, output
    assert location in lines[0]
    assert "unreachable after 3 attempts" in lines[0]
    assert "Traceback" not in output
    assert PASSWORD not in output
    # One warning per failed attempt before it, naming the dependency, not the URL.
    assert output.count("dependency_unreachable") == 3, output


@pytest.mark.slow
def test_several_workers_stop_the_supervisor_instead_of_restarting_forever(
    tmp_path: Path,
) -> None:
    """Each worker prints the line and exits with uvicorn's start-up failure status.

    uvicorn's supervisor then stops, rather than restarting the workers forever. Its own
    exit status is uvicorn's choice: non-zero on a failed start-up only with one worker,
    as the README says.
    """
    completed, location, elapsed = _serve(tmp_path, "--workers", "2")
    output = completed.stdout + completed.stderr

    assert elapsed < EXIT_DEADLINE_SECONDS
    assert "failed to start, stopping the parent process" in output, output
    lines = _error_lines(output)
    assert 1 <= len(lines) <= 2, output
    assert all(location in line for line in lines)
    assert "Traceback" not in output
    assert PASSWORD not in output


async def test_the_wait_retries_with_a_jittered_doubling_backoff_then_names_the_setting(
    settings: Settings, tmp_path: Path
) -> None:
    url, location = _unreachable_url(tmp_path)
    unreachable = settings.model_copy(
        update={
            "database_url": url,
            "database_connect_attempts": 3,
            "database_connect_backoff_seconds": 0.2,
        }
    )
    started = time.monotonic()
    with pytest.raises(DatabaseUnreachableError) as caught:
        await wait_for_database(unreachable)
    elapsed = time.monotonic() - started

    assert elapsed >= (0.2 + 0.4) / 2  # each wait is at least half its doubled delay
    message = str(caught.value)
    assert message.startswith("DATABASE_URL: ")
    assert location in message
    assert PASSWORD not in message
    assert "\n" not in message


async def test_a_reachable_database_passes_the_wait_at_once(settings: Settings) -> None:
    started = time.monotonic()
    await wait_for_database(settings)
    assert time.monotonic() - started < 5
{%- if cookiecutter.use_redis %}


@pytest.mark.slow
def test_an_unreachable_redis_ends_start_up_with_one_line_naming_redis_url(
    tmp_path: Path,
) -> None:
    port = free_port()
    env = child_environment(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'app.db'}",
        REDIS_URL=f"redis://:{PASSWORD}@127.0.0.1:{port}/0",
        REDIS_CONNECT_ATTEMPTS="3",
        REDIS_CONNECT_BACKOFF_SECONDS="0.1",
    )
    completed, _ = _run_until_exit(env)
    output = completed.stdout + completed.stderr

    assert completed.returncode == STARTUP_FAILURE, output
    lines = [line for line in output.splitlines() if "REDIS_URL" in line]
    assert len(lines) == 1, output
    assert f"Redis at 127.0.0.1:{port} is unreachable after 3 attempts" in lines[0]
    assert "(ConnectionRefusedError)" in lines[0]
    assert output.count("dependency_unreachable") == 3, output
    assert "Traceback" not in output
    assert PASSWORD not in output
{%- endif %}
