"""What every command shares: settings from the environment and a migrated database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from app.core.backends import create_store
from app.core.config import Settings
from app.crud.user_cache import UserCache
from app.db.migrate import upgrade_if_behind
from app.db.session import Database


@asynccontextmanager
async def migrated_database(settings: Settings) -> AsyncIterator[Database]:
    """The configured database, migrated first and disposed of afterwards.

    Migrations run as the server runs them on start, unless AUTO_MIGRATE is off.
    """
    if settings.auto_migrate:
        await upgrade_if_behind(settings)
    database = Database(settings)
    # Servers sharing this store (Redis) forget the accounts a command changes at once.
    store = create_store(settings)
    database.on_change(UserCache(store, ttl_seconds=settings.user_cache_seconds).forget)
    try:
        yield database
    finally:
        await database.dispose()
        await store.close()
