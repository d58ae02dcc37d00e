"""Following a run from any request, worker or replica until it ends.

The run's events arrive through the store's channel; its stored status answers for a run
that ended before the subscription or whose process is gone.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

from app.ai.runs import events, persistence
from app.ai.runs.events import RunEvent
from app.core.bounded import settle
from app.core.store import KeyValueStore
from app.db.session import Database

# How long a follower waits between checks that the run still has a live process.
FOLLOW_CHECK_SECONDS = 5.0
STOP_PUMP_SECONDS = 2.0
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
        self, execution_id: uuid.UUID, *, owner_id: uuid.UUID
    ) -> AsyncIterator[RunEvent]:
        """The events of a run from now on, whichever process runs it; its outcome if it ended.

        The subscription starts before the status is read, so a run that ends in between
        is still seen ending. A run no live process owns is failed as interrupted and its
        outcome sent, so a follower never waits on a run that cannot end.
        """
        async with self.store.subscribe(events.channel_for(execution_id)) as messages:
            queue: asyncio.Queue[str] = asyncio.Queue()
            pump = asyncio.create_task(_pump(messages, queue))
            try:
                ended = await self._ended(execution_id, owner_id=owner_id)
                while ended is None:
                    try:
                        message = await asyncio.wait_for(queue.get(), FOLLOW_CHECK_SECONDS)
                    except TimeoutError:
                        ended = await self._ended(execution_id, owner_id=owner_id)
                        continue
                    event = events.decode(message)
                    yield event
                    if event.name in events.FINAL_EVENTS:
                        return
                if ended is not _MISSING:
                    yield ended
            finally:
                await settle(pump, STOP_PUMP_SECONDS)

    async def _ended(self, execution_id: uuid.UUID, *, owner_id: uuid.UUID) -> RunEvent | None:
        """The final event of a run that has ended or has no process left; else None."""
        execution = await persistence.read_execution(self.database, execution_id, owner_id=owner_id)
        if execution is None:
            return _MISSING
        if not execution.status.is_final and not await self.is_live(execution_id):
            execution = await persistence.fail_orphan(self.database, execution_id)
            assert execution is not None
        return events.final_event(execution) if execution.status.is_final else None


async def _pump(messages: AsyncIterator[str], queue: asyncio.Queue[str]) -> None:
    """Move subscription messages to a queue that can be waited on with a timeout."""
    async for message in messages:
        queue.put_nowait(message)
