"""Run Alembic migrations from code, so a fresh checkout creates its own database.

Alembic is imported only when migrations run: a worker started with AUTO_MIGRATE=false
never loads it.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.config import PROJECT_ROOT, Settings

if TYPE_CHECKING:
    from alembic.config import Config


def alembic_config(settings: Settings) -> Config:
    """Alembic's config pointed at this project's scripts and the given database."""
    from alembic.config import Config

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    config.attributes["database_url"] = settings.database_url
    config.attributes["configure_logger"] = False
    return config


def ensure_sqlite_directory(settings: Settings) -> None:
    """SQLite creates the file but not its folder.

    A folder that cannot be made is left to the connection, whose failure start-up reports
    in one line.
    """
    prefix = "sqlite+aiosqlite:///"
    if settings.database_url.startswith(prefix):
        path = settings.database_url.removeprefix(prefix).split("?", 1)[0]
        if path and path != ":memory:":
            with contextlib.suppress(OSError):
                Path(path).parent.mkdir(parents=True, exist_ok=True)


async def upgrade_to_head(settings: Settings) -> None:
    """Apply pending migrations in a worker thread (Alembic's async env runs its own loop)."""
    from alembic import command

    ensure_sqlite_directory(settings)
    await asyncio.to_thread(command.upgrade, alembic_config(settings), "head")
