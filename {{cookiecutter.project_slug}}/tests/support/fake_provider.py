"""A fake OpenAI-compatible provider: a real HTTP server on loopback that misbehaves on demand.

It speaks chat completions (a JSON reply, or server-sent events when the request asks for
`"stream": true`) and answers every POST, whatever its path, with the next reply: queue replies
for the next requests, set the one that answers every request after them, then check what
arrived:

    with FakeProvider() as fake:               # or the `fake_provider` fixture
        fake.queue(Status(429, retry_after=7))  # the first request is rate limited
        fake.always(ToolCalls(("calculator", '{"expression": "1+1"}')))  # an endless tool loop
        ...                                     # point a client at fake.url
        assert len(fake.requests) == 3

The replies are in `tests.support.fake_replies`. The server runs in threads of its own, so it
keeps answering while the test's event loop waits on a client; stopping it releases every
reply that is still hanging or keeping a stream alive.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from tests.support.fake_replies import Reply, Text


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it; `number` counts from 1 in arrival order."""

    number: int
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = field(repr=False)

    @property
    def json(self) -> Any:
        """The decoded JSON body, or None when the body is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def stream(self) -> bool:
        """Whether the client asked for server-sent events."""
        body = self.json
        return isinstance(body, dict) and body.get("stream") is True


class Exchange:
    """One request and the means to answer it: whole, as a stream, or not at all."""

    def __init__(self, handler: _Handler, request: RecordedRequest, stopping: threading.Event):
        self.request = request
        self._handler = handler
        self._stopping = stopping

    def send(
        self,
        status: int,
        body: bytes,
        *,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """A whole response with a Content-Length, so the connection can be reused."""
        self._head(
            status, {"Content-Type": content_type, "Content-Length": str(len(body))}, headers
        )
        self._handler.wfile.write(body)

    def send_json(
        self, status: int, data: object, headers: Mapping[str, str] | None = None
    ) -> None:
        """A whole JSON response."""
        self.send(status, json.dumps(data).encode(), headers=headers)

    def start_stream(self, headers: Mapping[str, str] | None = None) -> None:
        """The head of a chunked event stream; each frame written after it leaves at once."""
        base = {"Content-Type": "text/event-stream", "Transfer-Encoding": "chunked"}
        self._head(200, base, headers)

    def write_frame(self, frame: bytes) -> None:
        """One chunk of the stream, flushed to the socket immediately."""
        self._handler.wfile.write(f"{len(frame):X}\r\n".encode() + frame + b"\r\n")
        self._handler.wfile.flush()

    def end_stream(self) -> None:
        """The terminating chunk: the stream ends cleanly, whatever it said before."""
        self._handler.wfile.write(b"0\r\n\r\n")
        self._handler.wfile.flush()

    def cut(self) -> None:
        """Drop the connection mid-response, as a crashed server or a proxy timeout would."""
        self._handler.close_connection = True
        with contextlib.suppress(OSError):
            self._handler.connection.shutdown(socket.SHUT_RDWR)

    def pause(self, seconds: float) -> bool:
        """Wait; False when the server is stopping, so the reply should give up."""
        return not self._stopping.wait(seconds)

    def _head(self, status: int, base: dict[str, str], extra: Mapping[str, str] | None) -> None:
        self._handler.send_response(status)
        for name, value in {**base, **(extra or {})}.items():
            self._handler.send_header(name, value)
        self._handler.end_headers()


class FakeProvider:
    """The server, its queue of replies and its log of requests; a context manager."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._queue: list[Reply] = []
        self._always: Reply = Text()
        self._arrived = threading.Condition()
        self._stopping = threading.Event()
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def origin(self) -> str:
        """Scheme, host and port: the base URL for SDKs that add their own `/v1`."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def url(self) -> str:
        """The OpenAI-style base URL (ending in `/v1`), as an SDK's `base_url` takes it."""
        return f"{self.origin}/v1"

    def queue(self, *replies: Reply) -> None:
        """Answer the next requests with these replies, one each, in order."""
        with self._arrived:
            self._queue.extend(replies)

    def always(self, reply: Reply) -> None:
        """Answer every request with `reply` once the queue is empty (a scenario)."""
        with self._arrived:
            self._always = reply

    def bodies(self) -> list[Any]:
        """The JSON body of every request so far, in order."""
        with self._arrived:
            return [request.json for request in self.requests]

    def wait_for_requests(self, count: int, timeout: float = 10.0) -> list[RecordedRequest]:
        """Block until `count` requests have arrived; fail the test when they do not."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.requests) >= count, timeout):
                raise AssertionError(f"expected {count} requests, got {len(self.requests)}")
            return list(self.requests)

    def start(self) -> FakeProvider:
        """Serve on a free loopback port until `stop`."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Release hanging replies, close every connection and wait for the threads to end."""
        self._stopping.set()
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> FakeProvider:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _receive(self, handler: _Handler, body: bytes) -> tuple[Exchange, Reply]:
        with self._arrived:
            request = RecordedRequest(
                number=len(self.requests) + 1,
                method=handler.command,
                path=handler.path,
                headers={name.lower(): value for name, value in handler.headers.items()},
                body=body,
            )
            self.requests.append(request)
            reply = self._queue.pop(0) if self._queue else self._always
            self._arrived.notify_all()
        return Exchange(handler, request, self._stopping), reply


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Every frame leaves at once: Nagle's delay would hold a stream's small writes back.
    disable_nagle_algorithm = True
    server: _Server

    def do_POST(self) -> None:
        """Answer with the next reply; http.server dispatches POSTs here by name."""
        length = int(self.headers.get("Content-Length") or 0)
        exchange, reply = self.server.fake._receive(self, self.rfile.read(length))
        try:
            reply.serve(exchange)
        except OSError:
            # The client gave up (its timeout, a cancel): there is no one left to answer.
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read the request log instead."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # A burst opens many connections at once; the default backlog of 5 refuses some of them.
    request_queue_size = 256

    def __init__(self, fake: FakeProvider) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End idle keep-alive connections too, so no handler thread outlives the server."""
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
