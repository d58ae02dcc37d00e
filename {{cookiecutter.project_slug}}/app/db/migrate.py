"""Run Alembic migrations from code, so a fresh checkout creates its own database.

Alembic is imported only when a migration is due: a worker started with AUTO_MIGRATE=false
never loads it, and neither does one whose database is already at the newest revision
(every restart of a deployed worker), which is told by one query.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app.core.config import PROJECT_ROOT, Settings

if TYPE_CHECKING:
    from alembic.config import Config

fcntl: ModuleType | None
try:
    import fcntl
except ImportError:  # Windows: no flock; start one worker there when migrating
    fcntl = None

SCRIPTS = PROJECT_ROOT / "alembic"
# `revision: str = "0007"` and `down_revision: str | None = "0006"`, as Alembic writes them.
_ASSIGNMENT = re.compile(r"^(revision|down_revision)\s*(?::[^=\n]*)?=\s*(.+?)\s*$", re.MULTILINE)


def alembic_config(settings: Settings) -> Config:
    """Alembic's config pointed at this project's scripts and the given database."""
    from alembic.config import Config

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(SCRIPTS))
    config.attributes["database_url"] = settings.database_url
    config.attributes["configure_logger"] = False
    return config


def sqlite_path(settings: Settings) -> Path | None:
    """The file DATABASE_URL names on SQLite; None for a server or an in-memory database."""
    prefix = "sqlite+aiosqlite:///"
    if not settings.database_url.startswith(prefix):
        return None
    path = settings.database_url.removeprefix(prefix).split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def ensure_sqlite_directory(settings: Settings) -> None:
    """SQLite creates the file but not its folder.

    A folder that cannot be made is left to the connection, whose failure start-up reports
    in one line.
    """
    path = sqlite_path(settings)
    if path is not None:
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)


async def upgrade_to_head(settings: Settings) -> None:
    """Apply pending migrations in a worker thread (Alembic's async env runs its own loop)."""
    ensure_sqlite_directory(settings)
    await asyncio.to_thread(_upgrade, settings)


def _upgrade(settings: Settings) -> None:
    """Migrate to head, one process at a time on a SQLite file.

    PostgreSQL serialises workers that start together with an advisory lock (see
    alembic/env.py); SQLite has none, so a lock file beside the database does it.
    """
    from alembic import command

    with _sqlite_migration_lock(settings):
        command.upgrade(alembic_config(settings), "head")


@contextlib.contextmanager
def _sqlite_migration_lock(settings: Settings) -> Iterator[None]:
    """Hold an exclusive lock on `<database>.migrate.lock` while the block runs."""
    path = sqlite_path(settings)
    if path is None or fcntl is None:
        yield
        return
    with open(f"{path}.migrate.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


async def upgrade_if_behind(settings: Settings) -> bool:
    """Apply pending migrations; False when the database was already at head and none ran.

    At head means it records exactly the revisions the files end on. Anything else (a new
    database, one behind or ahead, a file this cannot read) goes through Alembic as before.
    """
    heads = script_heads()
    if heads is not None and await recorded_revisions(settings) == heads:
        return False
    await upgrade_to_head(settings)
    return True


def script_heads(folder: Path = SCRIPTS / "versions") -> frozenset[str] | None:
    """The revisions no other builds on, from each file's own lines, without loading Alembic.

    None when a file does not state its `revision` and `down_revision` as plain literals,
    once each: the caller then asks Alembic, which reads them by importing the files.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in folder.glob("*.py"):
        if path.name.startswith(("_", ".")):
            continue  # __init__.py and editor files are no revisions to Alembic either
        found: dict[str, list[str]] = {"revision": [], "down_revision": []}
        for match in _ASSIGNMENT.finditer(path.read_text(encoding="utf-8")):
            found[match.group(1)].append(match.group(2))
        if len(found["revision"]) != 1 or len(found["down_revision"]) != 1:
            return None
        try:
            revision = ast.literal_eval(found["revision"][0])
            down = ast.literal_eval(found["down_revision"][0])
        except (ValueError, SyntaxError):
            return None
        down = [] if down is None else [down] if isinstance(down, str) else down
        if not isinstance(revision, str) or not isinstance(down, list | tuple):
            return None
        if not all(isinstance(parent, str) for parent in down):
            return None
        revisions.add(revision)
        parents.update(down)
    return frozenset(revisions - parents)


async def recorded_revisions(settings: Settings) -> frozenset[str] | None:
    """The revisions the database says it is at; None when it has no record to read."""
    engine = create_async_engine(settings.database_url, poolclass=NullPool, hide_parameters=True)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
            return frozenset(str(row[0]) for row in rows)
    except SQLAlchemyError:
        return None
    finally:
        await engine.dispose()
