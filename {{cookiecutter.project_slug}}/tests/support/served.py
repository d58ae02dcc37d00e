"""The service in its own uvicorn process group, as production runs it: started, killed, restarted.

`live_server` serves in a thread of the test process; these tests need what only a
separate process gives: several workers, and a `kill -9` that leaves no chance to clean up.

    with served(env, tmp_path, workers=2) as server:
        ...                            # requests to server.url
        server.kill()                  # SIGKILL the whole process group, as a crash would
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from app.core.config import PROJECT_ROOT
from tests.support.live_server import free_port
from tests.support.waiting import wait_until

TEST_SECRET = "load-test-secret-key-that-is-long-enough-for-hs256"
START_SECONDS = 45.0
STOP_SECONDS = 20.0
# Settings a developer's shell or .env may hold that must not reach the served process.
_LEAKY = (
    "DATABASE_URL",
{%- if cookiecutter.use_redis %}
    "REDIS_URL",
{%- endif %}
    "SECRET_KEY",
    "ENVIRONMENT",
    "OPENAI_",
    "AUTO_MIGRATE",
)


def service_env(**settings: str) -> dict[str, str]:
    """This process's environment without the service's own settings, plus `settings`.

    Sign-in limits are raised: every request comes from one address, and these tests
    measure runs, not the sign-in throttle.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith(_LEAKY)}
    env.update(
        ENVIRONMENT="test",
        SECRET_KEY=TEST_SECRET,
        AUTH_RATE_LIMIT="100000/minute",
        LOG_LEVEL="WARNING",
    )
    env.update(settings)
    return env


class ServedApp:
    """A uvicorn master (and its workers) in a process group of its own."""

    def __init__(
        self, env: Mapping[str, str], log: Path, workers: int, *, run_worker: bool = False
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        if run_worker:
            command = [sys.executable, "-m", "app.worker", "--port", str(self.port)]
        else:
            command = [sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app"]
            command += ["--host", "127.0.0.1", "--port", str(self.port)]
            command += ["--workers", str(workers), "--log-level", "warning"]
        with log.open("ab") as output:
            self.process = subprocess.Popen(  # noqa: S603 - this interpreter and uvicorn
                command,
                cwd=PROJECT_ROOT,
                env=dict(env),
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self) -> None:
        """Block until /health/ready answers 200; fail with the log when the server died."""

        def ready() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"uvicorn exited: {self.log_tail()}")
            try:
                return httpx.get(f"{self.url}/health/ready", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(ready, timeout=START_SECONDS, message=f"uvicorn on {self.url} never ready")

    def kill(self) -> None:
        """SIGKILL the master and every worker at once: no lifespan, no cleanup, a crash."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=STOP_SECONDS)

    def stop(self) -> None:
        """SIGTERM the group and wait for a graceful exit; SIGKILL when it does not come."""
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_tail(self, lines: int = 40) -> str:
        """The server's last output lines, for an assertion message."""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def served(
    env: Mapping[str, str],
    folder: Path,
    *,
    workers: int = 1,
    wait_ready: bool = True,
    run_worker: bool = False,
) -> Iterator[ServedApp]:
    """Serve the project (or, `run_worker`, a run worker) with `env` until the block ends.

    With `wait_ready=False` the block starts as soon as the process is launched, for a
    test that brings a dependency up while the service waits for it.
    """
    server = ServedApp(env, folder / "uvicorn.log", workers, run_worker=run_worker)
    try:
        if wait_ready:
            server.wait_ready()
        yield server
    finally:
        server.stop()
