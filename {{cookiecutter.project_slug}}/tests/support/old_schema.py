"""Tables as earlier revisions had them, for migration tests that write rows before upgrading.

The models describe the newest schema; an ORM insert into a database at an older revision
would name columns it does not have yet.
"""

from __future__ import annotations

from sqlalchemy import MetaData, Table

from app.db.base import Base


def table_without(name: str, *later_columns: str) -> Table:
    """The model's table without columns later revisions added; same types and defaults."""
    current = Base.metadata.tables[name]
    return Table(
        name,
        MetaData(),
        *(column._copy() for column in current.columns if column.name not in later_columns),
    )
