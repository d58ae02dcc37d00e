"""Create the configured database if it does not exist yet, then migrate it to head.

Run with `make db-init`. It reads DATABASE_URL like the app does (environment, then .env).
{%- if cookiecutter.database == "postgresql" %}
For PostgreSQL it connects to the server's `postgres` database to issue CREATE DATABASE,
so the user needs the CREATEDB privilege (or create the database yourself and run
`make migrate`).
{%- endif %}
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a plain script

{%- if cookiecutter.database == "postgresql" %}
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine
{%- else %}
from sqlalchemy import make_url
{%- endif %}

from app.core.config import get_settings
from app.db.migrate import upgrade_to_head
{%- if cookiecutter.database == "postgresql" %}


async def create_postgres_database(url: str) -> bool:
    """CREATE DATABASE when it is missing; True when this call created it."""
    target = make_url(url)
    name = target.database
    if not name:
        raise SystemExit("DATABASE_URL names no database")
    server = create_async_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with server.connect() as connection:
            exists = await connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if exists:
                return False
            quoted = name.replace('"', '""')
            await connection.execute(text(f'CREATE DATABASE "{quoted}"'))
            return True
    finally:
        await server.dispose()
{%- endif %}


async def main() -> None:
    """Make sure the database exists, then bring its schema to the latest revision."""
    settings = get_settings()
    url = make_url(settings.database_url)
    shown = url.render_as_string(hide_password=True)
{%- if cookiecutter.database == "postgresql" %}
    if url.get_backend_name() == "postgresql":
        created = await create_postgres_database(settings.database_url)
        print(f"{'Created' if created else 'Found'} database {url.database!r}")
{%- endif %}
    await upgrade_to_head(settings)
    print(f"Database ready at {shown}")


if __name__ == "__main__":
    asyncio.run(main())
