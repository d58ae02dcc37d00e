"""Serve an app in its own uvicorn process for a benchmark: start, wait for it, read memory, stop.

Every benchmark that needs a real server starts it here, so they all measure a process
started the same way: this interpreter's uvicorn, on a free loopback port, with its
output in a log file (shown when it fails to start).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# How a deployment serves (no proxy headers but TRUSTED_PROXIES', a bounded graceful stop):
# benchmarks measure the server as deployed.
DEPLOYED_FLAGS = ("--no-proxy-headers", "--timeout-graceful-shutdown", "20")
POLL_SECONDS = 0.005


def free_port() -> int:
    """A port nothing listens on, for one server of this run."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Served:
    """A uvicorn process of ours, its address, and where its output goes."""

    process: subprocess.Popen[bytes]
    url: str
    port: int
    log: Path
    started: float

    @property
    def pid(self) -> int:
        """The worker's process id: a single-process uvicorn serves in this process."""
        return self.process.pid

    def log_tail(self, lines: int = 20) -> str:
        """The last lines the server wrote, to say why it stopped."""
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def start(
    app: str,
    *,
    env: Mapping[str, str],
    log: Path,
    factory: bool = False,
    flags: Sequence[str] = DEPLOYED_FLAGS,
    cwd: Path | None = None,
    own_group: bool = False,
) -> Served:
    """Launch `uvicorn APP` on a free port and return at once; `wait_ready` waits for it.

    The project root is put on PYTHONPATH, so `cwd` can be a scratch folder that holds no
    `.env` file: the server then reads its settings from `env` alone. With `own_group` it
    leads a process group of its own, for `kill_group`.
    """
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
    command += [*(["--factory"] if factory else []), *flags]
    return _launch(command, port, env=env, log=log, cwd=cwd, own_group=own_group)


def start_worker(*, env: Mapping[str, str], log: Path, cwd: Path | None = None) -> Served:
    """Launch `python -m app.worker` in a process group of its own, for `kill_group`."""
    port = free_port()
    command = [sys.executable, "-m", "app.worker", "--port", str(port)]
    return _launch(command, port, env=env, log=log, cwd=cwd, own_group=True)


def _launch(
    command: list[str],
    port: int,
    *,
    env: Mapping[str, str],
    log: Path,
    cwd: Path | None,
    own_group: bool = False,
) -> Served:
    """Start `command` with the project root on PYTHONPATH, its output appended to `log`."""
    path = os.pathsep.join(p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH", "")) if p)
    with log.open("ab") as output:
        started = time.perf_counter()
        process = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
            command,
            env={**env, "PYTHONPATH": path},
            cwd=cwd or PROJECT_ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=own_group,
        )
    return Served(process, f"http://127.0.0.1:{port}", port, log, started)


def answers(port: int, path: str) -> bool:
    """One GET over a fresh connection: True on a 200, False while nothing listens."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(
                f"GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n".encode()
            )
            return sock.recv(12).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def wait_ready(served: Served, *, path: str = "/health", timeout: float = 60.0) -> float:
    """Poll `path` until it answers 200; the seconds from launch to that answer.

    Raises:
        RuntimeError: the server exited, or did not answer within `timeout`.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            raise RuntimeError(f"the server exited during start-up:\n{served.log_tail()}")
        if answers(served.port, path):
            return time.perf_counter() - served.started
        time.sleep(POLL_SECONDS)
    raise RuntimeError(f"the server did not answer {path} within {timeout:g}s")


def stop(served: Served, timeout: float = 30.0) -> None:
    """SIGTERM the server by its pid and wait; SIGKILL it if it does not stop in time."""
    if served.process.poll() is None:
        served.process.terminate()
        try:
            served.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            served.process.kill()
            served.process.wait(timeout=timeout)


def kill_group(served: Served) -> None:
    """SIGKILL the server's own process group, as a crash would: nothing is cleaned up."""
    if served.process.poll() is None:
        os.killpg(served.process.pid, signal.SIGKILL)
    served.process.wait()


@contextmanager
def serving(
    app: str,
    *,
    env: Mapping[str, str],
    log: Path,
    factory: bool = False,
    flags: Sequence[str] = DEPLOYED_FLAGS,
    cwd: Path | None = None,
    ready_path: str = "/health",
) -> Iterator[Served]:
    """A started server that answers `ready_path`; stopped when the block ends."""
    served = start(app, env=env, log=log, factory=factory, flags=flags, cwd=cwd)
    try:
        wait_ready(served, path=ready_path)
        yield served
    finally:
        stop(served)


def _status_mb(pid: int, field: str) -> float:
    """One memory line of /proc/PID/status, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/{pid}/status: Linux only")


def rss_mb(pid: int) -> float:
    """The process's resident memory now (VmRSS), in MiB."""
    return _status_mb(pid, "VmRSS")


def peak_rss_mb(pid: int) -> float:
    """The process's high-water resident memory (VmHWM), in MiB."""
    return _status_mb(pid, "VmHWM")
