"""Counting the SQL a block of code sends, so tests can hold query counts down.

Every statement the engine executes is recorded (an `executemany` counts once, as it is
one statement), and so is every commit. Pool pre-pings do not pass through the engine's
statement events, so they are not counted: the figures are the code's own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event

from app.db.session import Database


@dataclass
class StatementLog:
    """The statements and commits seen while counting, in order."""

    statements: list[str] = field(default_factory=list)
    commits: int = 0

    def __len__(self) -> int:
        return len(self.statements)

    def __str__(self) -> str:
        """One line per statement, cut short: what an assertion message shows."""
        lines = [" ".join(s.split())[:120] for s in self.statements]
        return "\n".join([f"{len(lines)} statements, {self.commits} commits:", *lines])


@contextmanager
def counting_statements(database: Database) -> Iterator[StatementLog]:
    """Record what `database`'s engine executes and commits until the block ends."""
    engine = database.engine.sync_engine
    log = StatementLog()

    def on_execute(*args: Any) -> None:
        log.statements.append(str(args[2]))

    def on_commit(_connection: Any) -> None:
        log.commits += 1

    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "commit", on_commit)
    try:
        yield log
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine, "commit", on_commit)
