"""Running commands and servers for the template tests.

Every command runs in its own process group, so a timeout or a finished test stops it
and all its children; servers are waited on by polling a URL under a deadline, never by
sleeping a fixed time. `test_template.py` imports this module too.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

TOOLS_BIN = Path(sys.executable).parent
# Where a virtualenv keeps its scripts.
VENV_BIN = "Scripts" if os.name == "nt" else "bin"
# How often a condition is checked while waiting on it.
POLL_SECONDS = 0.2


def tool(name: str) -> str:
    """A console script installed next to the running interpreter (ruff, mypy, ...)."""
    candidate = TOOLS_BIN / name
    return str(candidate) if candidate.exists() else name


# For git in throwaway repositories: an identity, and no user or system configuration
# (a signing or hooks setting there would change what the tests see).
GIT_ISOLATED = {
    "GIT_AUTHOR_NAME": "Template Tests",
    "GIT_AUTHOR_EMAIL": "tests@example.com",
    "GIT_COMMITTER_NAME": "Template Tests",
    "GIT_COMMITTER_EMAIL": "tests@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


# A generated suite writes its SQLite files (and DBOS's) under TMPDIR; on a disk every
# commit's fsync costs milliseconds, in memory nothing. Needs room for a pgserver cluster.
MEMORY_TMP_ROOT = Path("/dev/shm")  # noqa: S108 (a private folder is made and checked in it)
MEMORY_TMP_MIN_FREE = 2 * 1024**3


def memory_tmpdir() -> str | None:
    """A folder in memory-backed storage for the suites' temporary files, where there is one."""
    if not MEMORY_TMP_ROOT.is_dir() or not os.access(MEMORY_TMP_ROOT, os.W_OK):
        return None
    if shutil.disk_usage(MEMORY_TMP_ROOT).free < MEMORY_TMP_MIN_FREE:
        return None
    folder = MEMORY_TMP_ROOT / f"kickstart-tests-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    found = folder.lstat()
    if stat.S_ISLNK(found.st_mode) or found.st_uid != os.getuid() or found.st_mode & 0o077:
        return None  # someone else's, or open to others: not a place for our files
    return str(folder)


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for a generated project's commands, minus anything that would leak in.

    TMPDIR, unless already set, is in memory where the machine has room for it.
    """
    leaky = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ENVIRONMENT", "VIRTUAL_ENV", "PYTHONPATH")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.endswith(leaky) and not key.startswith(("PYTEST_", "COV_"))
    }
    if "TMPDIR" not in env and (memory := memory_tmpdir()) is not None:
        env["TMPDIR"] = memory
    env.update(extra)
    return env


@dataclass
class Outcome:
    """A finished command: exit code, combined output, and how long it took."""

    args: list[str]
    returncode: int
    output: str
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Exit status 0."""
        return self.returncode == 0

    def tail(self, lines: int = 60) -> str:
        """The last lines of the output, for an assertion message."""
        return "\n".join(self.output.splitlines()[-lines:])


def run(
    args: list[str],
    cwd: Path,
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = 900,
) -> Outcome:
    """Run a command to completion, stdout and stderr together; on timeout kill its group."""
    started = time.monotonic()
    with subprocess.Popen(
        args,
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, so a timeout stops every child
    ) as process:
        try:
            output, _ = process.communicate(timeout=timeout)
            code = process.returncode
        except subprocess.TimeoutExpired:
            kill_group(process)
            output, _ = process.communicate()
            code = -9
            output = f"{output}\n[timed out after {timeout:.0f}s]"
    return Outcome(args, code, output, time.monotonic() - started)


def kill_group(process: subprocess.Popen[str]) -> None:
    """Stop a process started with `start_new_session=True` and all its children."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


SUMMARY_COUNT = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed)")


def pytest_counts(output: str) -> dict[str, int]:
    """Counts from pytest's closing summary line (`3 passed, 1 failed in 2.0s`)."""
    counts: dict[str, int] = {}
    for line in reversed(output.splitlines()):
        if re.search(r"\b(passed|failed|errors?|no tests ran)\b", line) and " in " in line:
            for number, word in SUMMARY_COUNT.findall(line):
                counts["error" if word.startswith("error") else word] = int(number)
            break
    return counts


def ruff_check(project: Path) -> Outcome:
    """`ruff check` with the project's own configuration."""
    return run([tool("ruff"), "check", "--no-cache", "."], project, timeout=120)


def ruff_format_check(project: Path) -> Outcome:
    """`ruff format --check` with the project's own configuration."""
    return run([tool("ruff"), "format", "--check", "--no-cache", "."], project, timeout=120)


def generated_pytest(
    python: str, project: Path, *, env: Mapping[str, str], timeout: float = 1200
) -> Outcome:
    """Run a generated project's own test suite with `python`, from its folder."""
    outcome = run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:cookies"],
        project,
        env=env,
        timeout=timeout,
    )
    outcome.counts = pytest_counts(outcome.output)
    return outcome


# --- waiting and serving --------------------------------------------------------------


def wait_until(condition: Callable[[], bool], *, timeout: float, message: str) -> None:
    """Check `condition` every `POLL_SECONDS` until it holds; fail once `timeout` passes."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            raise AssertionError(f"{message} (waited {timeout:.0f}s)")
        time.sleep(POLL_SECONDS)


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def answers_200(url: str) -> bool:
    """True when a GET of `url` answers 200 within a few seconds."""
    try:
        return httpx.get(url, timeout=5).status_code == httpx.codes.OK
    except httpx.HTTPError:
        return False


@dataclass
class Server:
    """A server command running in its own process group, its output kept in a file.

    A file, not a pipe: a pipe nobody reads fills up and blocks a chatty server.
    """

    process: subprocess.Popen[str]
    log: IO[str]

    def output(self, lines: int = 40) -> str:
        """The last lines the server printed, for an assertion message."""
        self.log.flush()
        self.log.seek(0)
        return "\n".join(self.log.read().splitlines()[-lines:])

    def stop(self) -> None:
        """Stop the server and every child it started."""
        kill_group(self.process)
        self.log.close()


def start_server(
    args: list[str], cwd: Path, *, env: Mapping[str, str], url: str, timeout: float = 90
) -> Server:
    """Start a server command and wait until `url` answers 200, or fail with its output."""
    log = tempfile.TemporaryFile("w+")  # noqa: SIM115 - the Server closes it when it stops
    process = subprocess.Popen(
        args,
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    server = Server(process, log)
    try:
        wait_until(
            lambda: process.poll() is not None or answers_200(url),
            timeout=timeout,
            message=f"{url} never answered 200",
        )
        if process.poll() is not None:
            raise AssertionError(f"exited with {process.returncode} before {url} answered")
    except AssertionError as error:
        output = server.output()
        server.stop()
        raise AssertionError(f"$ {' '.join(args)}: {error}\n{output}") from None
    return server


@contextmanager
def serving(
    args: list[str], cwd: Path, *, env: Mapping[str, str], url: str, timeout: float = 90
) -> Iterator[Server]:
    """`start_server` for the length of a `with` block, stopped however the block ends."""
    server = start_server(args, cwd, env=env, url=url, timeout=timeout)
    try:
        yield server
    finally:
        server.stop()
