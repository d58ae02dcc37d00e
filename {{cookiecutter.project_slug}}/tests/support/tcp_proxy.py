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
{%- if cookiecutter.use_redis %}
from urllib.parse import urlsplit, urlunsplit
{%- endif %}

from sqlalchemy import URL, make_url

BUFFER_BYTES = 65536


class TcpProxy:
    """Forwards 127.0.0.1:`port` to what `connect` opens, one pair of threads per connection."""

    def __init__(self, connect: Callable[[], socket.socket], port: int = 0) -> None:
        """`port` 0 listens on a free port; another listens there, e.g. where a URL points."""
        self._connect = connect
        self.port = port
        self._listener: socket.socket | None = None
        self._live: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        """Listen on `port` (a free one if 0) the first time, on the same port after a cut."""
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
def tcp_proxy(connect: Callable[[], socket.socket], port: int = 0) -> Iterator[TcpProxy]:
    """A started proxy to what `connect` opens, on `port` (0: a free one), cut afterwards."""
    proxy = TcpProxy(connect, port)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.cut()


def to_database(database_url: str) -> Callable[[], socket.socket]:
    """Connections to the PostgreSQL server of `database_url`, by TCP or Unix socket."""
    url = make_url(database_url)
    socket_folder = url.query.get("host")
    if isinstance(socket_folder, str) and socket_folder.startswith("/"):
        return to_unix_socket(f"{socket_folder}/.s.PGSQL.{url.port or 5432}")
    return to_tcp(url.host or "127.0.0.1", url.port or 5432)


def database_url_at(database_url: str, port: int) -> str:
    """`database_url` pointed at 127.0.0.1:`port`, where a proxy listens or will."""
    url = make_url(database_url)
    through: URL = url.difference_update_query(["host"]).set(host="127.0.0.1", port=port)
    return through.render_as_string(hide_password=False)
{%- if cookiecutter.use_redis %}


def to_redis(redis_url: str) -> Callable[[], socket.socket]:
    """Connections to the Redis server of `redis_url`."""
    parts = urlsplit(redis_url)
    return to_tcp(parts.hostname or "127.0.0.1", parts.port or 6379)


def redis_url_at(redis_url: str, port: int) -> str:
    """`redis_url` (its password and database kept) pointed at 127.0.0.1:`port`."""
    parts = urlsplit(redis_url)
    credentials = parts.netloc.rpartition("@")[0]
    netloc = f"{credentials}@127.0.0.1:{port}" if credentials else f"127.0.0.1:{port}"
    return urlunsplit(parts._replace(netloc=netloc))
{%- endif %}


@contextmanager
def proxied_database(database_url: str) -> Iterator[tuple[TcpProxy, str]]:
    """A proxy to PostgreSQL at `database_url` (TCP or Unix socket), and the URL through it."""
    with tcp_proxy(to_database(database_url)) as proxy:
        yield proxy, database_url_at(database_url, proxy.port)
