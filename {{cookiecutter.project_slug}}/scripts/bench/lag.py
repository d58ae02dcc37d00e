"""Event-loop lag while logins arrive: a probe in the server's own loop, logins over real HTTP.

The server runs in a child process, started as the uvicorn CLI would start it (same
loop, same protocol classes), with one addition inside its event loop: a task that
sleeps 1 ms at a time and records how late it wakes up. Logins come from the parent
process, so the client never competes with the server for its interpreter. Nothing is
added to the app: the probe is told when to record over the child's stdin and answers
on a pipe of its own, since the server's stdout carries its logs.

    python -m scripts.bench.lag ours --port 8123 --reply-fd 5     (run by `make bench`)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import select
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TextIO

import uvicorn

from scripts.bench.environment import APPS, App
from scripts.bench.table import percentile
from scripts.serving import PROJECT_ROOT, free_port

PROBE_SECONDS = 0.001
REPLY_TIMEOUT = 120.0


class ProbedServer(uvicorn.Server):
    """A uvicorn server whose event loop also runs the lag probe and reads commands."""

    def __init__(self, config: uvicorn.Config, replies: TextIO) -> None:
        super().__init__(config)
        self.replies = replies
        self.lags: list[float] = []
        self.recording = False
        self.helpers: set[asyncio.Task[None]] = set()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """Start as uvicorn does, then the probe; say `ready` once the socket listens."""
        await super().startup(sockets)
        self.helpers = {asyncio.create_task(self.probe()), asyncio.create_task(self.commands())}
        self.reply("ready")

    def reply(self, line: str) -> None:
        """One line to the parent."""
        self.replies.write(line + "\n")
        self.replies.flush()

    async def probe(self) -> None:
        """Sleep 1 ms again and again; while recording, keep how late each wake-up was."""
        while not self.should_exit:
            before = time.perf_counter()
            await asyncio.sleep(PROBE_SECONDS)
            if self.recording:
                self.lags.append((time.perf_counter() - before - PROBE_SECONDS) * 1000)

    async def commands(self) -> None:
        """`start` clears and records, `stop` answers the figures; end of input stops the server."""
        reader = asyncio.StreamReader()
        loop = asyncio.get_running_loop()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while line := (await reader.readline()).decode().strip():
            if line == "start":
                self.lags.clear()
                self.recording = True
                self.reply("started")
            elif line == "stop":
                self.recording = False
                worst = max(self.lags, default=0.0)
                self.reply(json.dumps({"max_ms": worst, "p99_ms": percentile(self.lags, 0.99)}))
        self.should_exit = True


class LagServer:
    """The parent's handle on one probed server: start it, record windows, stop it."""

    def __init__(self, app: App, env: dict[str, str], folder: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        read, write = os.pipe()
        with (folder / f"{app.name}-lag.log").open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
                [
                    *(sys.executable, "-m", "scripts.bench.lag", app.name),
                    *("--port", str(self.port), "--reply-fd", str(write)),
                ],
                env=env,
                cwd=folder,
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=(write,),
            )
        os.close(write)
        self.replies = os.fdopen(read, "r")

    def wait_ready(self) -> None:
        """Return once the server listens; several can start at once, then be waited for."""
        self.answer("ready")

    def answer(self, expected: str | None = None) -> str:
        """The child's next line; with `expected`, it must be that."""
        ready, _, _ = select.select([self.replies], [], [], REPLY_TIMEOUT)
        line = self.replies.readline().strip() if ready else ""
        if not line or (expected is not None and line != expected):
            raise RuntimeError(f"the probed server did not answer {expected or 'its figures'}")
        return line

    def send(self, command: str) -> None:
        """One command line to the child."""
        assert self.process.stdin is not None
        self.process.stdin.write(command.encode() + b"\n")
        self.process.stdin.flush()

    def start_recording(self) -> None:
        """Lags from now on count."""
        self.send("start")
        self.answer("started")

    def stop_recording(self) -> tuple[float, float]:
        """(worst, p99) lag in ms since `start_recording`."""
        self.send("stop")
        figures = json.loads(self.answer())
        return float(figures["max_ms"]), float(figures["p99_ms"])

    def close(self) -> None:
        """End of input: the server shuts down as on SIGTERM."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.replies.close()


def main() -> None:
    """Serve one app with the probe, on the given port, with the deployed flags' settings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("app", choices=[app.name for app in APPS])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--reply-fd", type=int, required=True)
    options = parser.parse_args()
    app = next(app for app in APPS if app.name == options.app)
    sys.path.insert(0, str(PROJECT_ROOT))
    # DEPLOYED_FLAGS, as keywords.
    config = uvicorn.Config(
        app.spec,
        factory=app.factory,
        host="127.0.0.1",
        port=options.port,
        proxy_headers=False,
        timeout_graceful_shutdown=20,
    )
    with os.fdopen(options.reply_fd, "w") as replies:
        ProbedServer(config, replies).run()


if __name__ == "__main__":
    main()
