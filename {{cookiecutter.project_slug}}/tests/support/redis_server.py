"""A private `redis-server` on a free port, which a test may kill and start again."""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

from tests.support.live_server import free_port
from tests.support.waiting import wait_until

START_SECONDS = 10.0


class RedisServer:
    """One redis-server without persistence: a restart comes back empty, like a fresh node."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start on `self.port` and return once it accepts connections."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed")
        self._process = subprocess.Popen(  # noqa: S603 - a fixed binary and our arguments
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._answers, timeout=START_SECONDS, message="redis-server start")

    def stop(self) -> None:
        """Kill the server by its PID, as a crash would, and wait until it is gone."""
        if self._process is None:
            return
        self._process.kill()
        self._process.wait(timeout=START_SECONDS)
        self._process = None

    def _answers(self) -> bool:
        if self._process is not None and self._process.poll() is not None:
            raise RuntimeError(f"redis-server exited with {self._process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    """A started private Redis, killed afterwards whatever happened."""
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
