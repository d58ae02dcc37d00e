"""Alembic environment: async engine, URL from settings (or the caller), every model loaded."""

from __future__ import annotations

import asyncio
from logging.config import fileConfig
from typing import Any, Literal

import sqlalchemy as sa
from alembic import context
from alembic.autogenerate.api import AutogenContext
from alembic.runtime.environment import NameFilterParentNames, NameFilterType
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import app.models  # noqa: F401  (registers every table on the metadata)
from app.core.config import get_settings
from app.db.base import Base
from app.db.types import UTCDateTime

# Any fixed number works; it only has to be the same in every process of this service.
POSTGRES_MIGRATION_LOCK_KEY = 727_001

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def database_url() -> str:
    """The caller's URL when migrating from code, otherwise the app's settings."""
    url: str | None = config.attributes.get("database_url")
    return url or get_settings().database_url


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Write portable column types as plain SQLAlchemy, so revisions never import app code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, sa.JSON):
        return 'sa.JSON().with_variant(postgresql.JSONB(), "postgresql")'
    return False


def include_name(
    name: str | None, type_: NameFilterType, parent_names: NameFilterParentNames
) -> bool:
    """Leave out what migrations build by hand for one database (models list the names)."""
    hand_built = target_metadata.info.get("database_only_names", ())
    if type_ == "column":
        return f"{parent_names.get('table_name')}.{name}" not in hand_built
    return name not in hand_built


class EmptyMigrationError(SystemExit):
    """`alembic revision --autogenerate` found no model change: an empty file helps nobody."""


def refuse_empty_revision(_context: Any, _revision: Any, directives: list[Any]) -> None:
    """Write no empty revision from `alembic revision --autogenerate`; say why (exit status 1).

    Only that command line is refused: `alembic check` and calls from code see no change
    as an answer, and a hand-written `alembic revision -m` (no --autogenerate) is allowed.
    """
    cmd_opts = config.cmd_opts
    command_fn = getattr(cmd_opts, "cmd", (None,))[0]
    if getattr(command_fn, "__name__", "") != "revision":
        return
    if not getattr(cmd_opts, "autogenerate", False):
        return
    if directives and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        raise EmptyMigrationError(
            "No model change since the last migration: no revision written. "
            "Change a model in app/models/ first, or write a data migration with "
            '`alembic revision -m "..."`.'
        )


def run_migrations_offline() -> None:
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        compare_type=True,
        render_item=render_item,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    # Batch mode lets ALTERs work on SQLite, which cannot alter most constraints in place.
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        render_item=render_item,
        include_name=include_name,
        process_revision_directives=refuse_empty_revision,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Workers and replicas that start together migrate one at a time; the lock
            # ends with the transaction, and the others then find nothing left to do.
            connection.execute(
                sa.text("SELECT pg_advisory_xact_lock(:key)"),
                {"key": POSTGRES_MIGRATION_LOCK_KEY},
            )
        context.run_migrations()


async def run_migrations_online() -> None:
    engine = create_async_engine(database_url(), hide_parameters=True)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
