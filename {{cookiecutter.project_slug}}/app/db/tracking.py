"""Sessions that know whether they wrote, and which rows their writes changed.

A request that only read needs no COMMIT, and one that ran nothing needs no connection;
`Database.transaction` decides from what is noted here. Changed rows are reported after
the transaction ends, so caches of those rows (the signed-in user's) can forget them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

_WROTE = "tracking.wrote"
_CHANGED = "tracking.changed"


@dataclass(frozen=True, slots=True)
class RowChange:
    """A row of `table` that a write changed or deleted; `key` None means any of its rows."""

    table: str
    key: Any = None


class TrackedSession(Session):
    """The synchronous session under `TrackedAsyncSession`, where the events are heard."""


class TrackedAsyncSession(AsyncSession):
    """An AsyncSession whose raw connection counts as a write, since it escapes the events."""

    sync_session_class = TrackedSession

    async def connection(self, *args: Any, **kwargs: Any) -> AsyncConnection:
        """The session's connection; what runs on it is unseen, so assume it writes."""
        self.sync_session.info[_WROTE] = True
        return await super().connection(*args, **kwargs)


def wrote(session: AsyncSession) -> bool:
    """Whether committing could change anything: a write ran, or changes are pending.

    A SELECT is taken to change nothing; every other statement (text included), every
    flush and every unflushed change counts as a write.
    """
    sync = session.sync_session
    return bool(sync.info.get(_WROTE) or sync.new or sync.dirty or sync.deleted)


def changed_rows(session: AsyncSession) -> frozenset[RowChange]:
    """Rows the session's writes changed or deleted so far, rolled back ones included."""
    return frozenset(session.sync_session.info.get(_CHANGED, ()))


def _changes(session: Session) -> set[RowChange]:
    changes: set[RowChange] = session.info.setdefault(_CHANGED, set())
    return changes


@event.listens_for(TrackedSession, "do_orm_execute")
def _note_statement(state: ORMExecuteState) -> None:
    """Any statement but a SELECT is a write; UPDATE and DELETE may change any row."""
    if state.is_select:
        return
    state.session.info[_WROTE] = True
    table = getattr(state.statement, "table", None)
    if (state.is_update or state.is_delete) and table is not None:
        _changes(state.session).add(RowChange(str(getattr(table, "name", table))))


@event.listens_for(TrackedSession, "after_flush")
def _note_flush(session: Session, _context: UOWTransaction) -> None:
    """A flush wrote; note each updated or deleted object's row by table and primary key."""
    session.info[_WROTE] = True
    changes = _changes(session)
    for instance in (*session.dirty, *session.deleted):
        state = inspect(instance)
        identity = state.identity
        if identity is None:
            continue
        key = identity[0] if len(identity) == 1 else identity
        changes.add(RowChange(state.mapper.local_table.name, key))
