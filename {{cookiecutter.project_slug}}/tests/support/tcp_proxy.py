"""A TCP proxy a test controls, to make a server unreachable and reachable again.

`cut()` closes every live connection and stops listening, so new connections are
refused as by a server that went down; `restore()` listens on the same port again.
The proxy listens on loopback TCP and forwards to a TCP address or a Unix socket.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

from sqlalchemy import URL, make_url

BUFFER_BYTES = 65536


class TcpProxy:
    """Forwards 127.0.0.1:`port` to what `connect` opens, one pair of threads per connection."""

    def __init__(self, connect: Callable[[], socket.socket]) -> None:
        self._connect = connect
        self.port = 0
        self._listener: socket.socket | None = None
        self._live: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        """Listen on a free port (the first time) or on the same port (after a cut)."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Close every live connection and refuse new ones."""
        listener, self._listener = self._listener, None
        if listener is not None:
            _close(listener)
        with self._lock:
            live, self._live = self._live, set()
        for sock in live:
            _close(sock)

    def restore(self) -> None:
        """Accept and forward connections again, on the same port."""
        if self._listener is None:
            self.start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = self._connect()
            except OSError:
                _close(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                self._live.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(BUFFER_BYTES):
                sink.sendall(data)
        for sock in (source, sink):
            with self._lock:
                self._live.discard(sock)
            _close(sock)


def _close(sock: socket.socket) -> None:
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with suppress(OSError):
        sock.close()


def to_tcp(host: str, port: int) -> Callable[[], socket.socket]:
    """Connections to `host:port`."""
    return lambda: socket.create_connection((host, port), timeout=5)


def to_unix_socket(path: str) -> Callable[[], socket.socket]:
    """Connections to the Unix socket at `path`."""

    def connect() -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(path)
        return sock

    return connect


@contextmanager
def tcp_proxy(connect: Callable[[], socket.socket]) -> Iterator[TcpProxy]:
    """A started proxy to what `connect` opens, cut afterwards."""
    proxy = TcpProxy(connect)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.cut()


@contextmanager
def proxied_database(database_url: str) -> Iterator[tuple[TcpProxy, str]]:
    """A proxy to PostgreSQL at `database_url` (TCP or Unix socket), and the URL through it."""
    url = make_url(database_url)
    socket_folder = url.query.get("host")
    if isinstance(socket_folder, str) and socket_folder.startswith("/"):
        connect = to_unix_socket(f"{socket_folder}/.s.PGSQL.{url.port or 5432}")
    else:
        connect = to_tcp(url.host or "127.0.0.1", url.port or 5432)
    with tcp_proxy(connect) as proxy:
        through: URL = url.difference_update_query(["host"]).set(host="127.0.0.1", port=proxy.port)
        yield proxy, through.render_as_string(hide_password=False)
