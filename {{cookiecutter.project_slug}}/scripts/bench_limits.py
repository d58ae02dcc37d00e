"""Measure what the worst rejected request costs a worker: a 100 MB body to a public route.

Starts the service in its own uvicorn process, sends the body declared (Content-Length)
and chunked, raw over a socket so the client never waits for itself, and prints the
time to the answer and how much the worker's peak memory grew. `--cap` sets
MAX_REQUEST_BODY_BYTES, so a cap as large as the body shows what parsing would cost.

    make bench-limits
    make bench-limits ARGS="--cap 200000000"
"""

from __future__ import annotations

import argparse
import os
import select
import socket
import tempfile
import time
from pathlib import Path

from scripts.serving import peak_rss_mb, serving

PATH = "/api/v1/auth/register"
CHUNK = b"x" * 65_536


def send(port: int, size: int, *, chunked: bool) -> tuple[str, float]:
    """Send `size` bytes of body; (status line, seconds until the answer arrived)."""
    head = f"POST {PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    head += "Transfer-Encoding: chunked\r\n\r\n" if chunked else f"Content-Length: {size}\r\n\r\n"
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
        sock.sendall(head.encode())
        sent = 0
        while sent < size:
            if select.select([sock], [], [], 0)[0]:
                break  # the server has answered: stop sending, as a client would
            piece = CHUNK[: size - sent]
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            except OSError:
                break
            sent += len(piece)
        else:
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        answer = sock.recv(64).split(b"\r\n")[0].decode()
    return answer, time.perf_counter() - started


def main() -> None:
    """Start the server, send the body both ways and print each answer's time and memory."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000_000, help="body bytes")
    parser.add_argument("--cap", type=int, default=None, help="MAX_REQUEST_BODY_BYTES")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite+aiosqlite:///{folder}/bench.db",
            "LOG_LEVEL": "WARNING",
        }
        if options.cap is not None:
            env["MAX_REQUEST_BODY_BYTES"] = str(options.cap)
        with serving(
            "app.main:create_app",
            factory=True,
            env=env,
            log=Path(folder) / "server.log",
            flags=("--log-level", "warning"),
        ) as server:
            print(f"{options.size / 1e6:.0f} MB body to {PATH} (a public route)")
            for chunked in (False, True):
                before = peak_rss_mb(server.pid)
                status, seconds = send(server.port, options.size, chunked=chunked)
                grown = peak_rss_mb(server.pid) - before
                kind = "chunked " if chunked else "declared"
                print(
                    f"  {kind}: {status:<32} {seconds * 1000:8.1f} ms   peak RSS +{grown:6.1f} MB"
                )


if __name__ == "__main__":
    main()
