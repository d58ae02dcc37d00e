"""Following a run from any request, worker or replica until it ends.

The run's events are read from its event log in the store, from wherever the follower
left off; its stored status answers for a run whose events are gone (expired, or never
logged while the store was away) or whose process is gone.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import structlog

from app.ai.runs import events, outcomes, persistence
from app.ai.runs.events import RunEvent
from app.core.event_log import START, LogEntry
from app.core.store import KeyValueStore, StoreUnavailableError
from app.db.session import Database

logger = structlog.get_logger(__name__)

# How long one read of the log waits for news; a quiet wait ends in a status check.
FOLLOW_WAIT_SECONDS = 2.0
# Stands for "no such execution" where None means "still running".
_MISSING = RunEvent("missing", {})


class RunFollower:
    """Streams one run's events to a caller, ending however and wherever the run ends."""

    def __init__(
        self,
        *,
        database: Database,
        store: KeyValueStore,
        is_live: Callable[[uuid.UUID], Awaitable[bool]],
    ) -> None:
        self.database = database
        self.store = store
        self.is_live = is_live

    async def follow(
        self, execution_id: uuid.UUID, *, organization_id: uuid.UUID, after: str = START
    ) -> AsyncIterator[RunEvent]:
        """The run's events after the id `after` (all of them by default), then its outcome.

        Whenever a read finds nothing new the stored status is checked: a run that ended is
        drained and its outcome sent, and one no live process owns is failed as interrupted,
        so a follower never waits on a run that cannot end.
        """
        log = events.log_for(execution_id)
        ended = await self._ended(execution_id, organization_id=organization_id)
        while True:
            wait = 0.0 if ended is not None else FOLLOW_WAIT_SECONDS
            entries = await self._read(log, after, wait_seconds=wait)
            for entry in entries:
                event = events.decode(entry)
                yield event
                after = entry.id
                if event.name in events.FINAL_EVENTS:
                    return
            if entries:
                continue
            if ended is not None:
                if ended is not _MISSING:
                    yield ended
                return
            ended = await self._ended(execution_id, organization_id=organization_id)

    async def _read(self, log: str, after: str, *, wait_seconds: float) -> list[LogEntry]:
        """The next entries; none while the store is away (the stored status still ends it)."""
        try:
            return await self.store.read_events(log, after, wait_seconds=wait_seconds)
        except StoreUnavailableError as exc:
            logger.warning("execution_events_unreadable", log=log, error=str(exc))
            # Paced like a quiet read, so an outage is not a loop of status queries.
            await asyncio.sleep(wait_seconds)
            return []

    async def _ended(
        self, execution_id: uuid.UUID, *, organization_id: uuid.UUID
    ) -> RunEvent | None:
        """The final event of a run that has ended or has no process left; else None."""
        execution = await persistence.read_execution(
            self.database, execution_id, organization_id=organization_id
        )
        if execution is None:
            return _MISSING
        if not execution.status.is_final and not await self.is_live(execution_id):
            execution = await outcomes.fail_orphan(self.database, execution_id)
            assert execution is not None
        return events.final_event(execution) if execution.status.is_final else None
