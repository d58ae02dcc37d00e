"""Start the test MCP server (tests/support/mcp_server.py) as a real process."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.live_server import free_port
from tests.support.waiting import wait_until

PROJECT_ROOT = Path(__file__).resolve().parents[2]
STDIO_COMMAND = [sys.executable, "-m", "tests.support.mcp_server", "stdio"]


def _accepts(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def http_mcp_server() -> Iterator[str]:
    """The URL of a test MCP server process over streamable HTTP, stopped afterwards."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - this interpreter and our own test server
        [sys.executable, "-m", "tests.support.mcp_server", "http", str(port)],
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(
            lambda: _accepts(port) or process.poll() is not None,
            timeout=20,
            message="MCP server start",
        )
        assert process.poll() is None, "the MCP server exited before serving"
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
