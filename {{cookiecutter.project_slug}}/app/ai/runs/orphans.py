"""Runs a dead process left behind: telling them from live ones, and sweeping them up.

A run is live while this process executes it, another process holds its lease in the
shared store, or the engine still has it queued or pending. The sweep resumes each run
that is not, from its last recorded step; it fails only a run the engine has already
ended, whose outcome's write was lost.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import structlog

from app.ai.runs import cancellation, durable, outcomes, persistence
from app.core.store import KeyValueStore
from app.db.session import Database

logger = structlog.get_logger(__name__)

RunsHere = Callable[[uuid.UUID], bool]


async def _held(store: KeyValueStore, execution_id: uuid.UUID, here: RunsHere) -> bool:
    """Whether this process runs it, or another holds its lease."""
    return here(execution_id) or await cancellation.has_live_lease(store, execution_id)


async def is_live(store: KeyValueStore, execution_id: uuid.UUID, *, here: RunsHere) -> bool:
    """Whether some process runs it (this one, or one holding its lease) or will."""
    if await _held(store, execution_id, here):
        return True
    return await durable.state_of(execution_id) in durable.ACTIVE_STATES


async def is_unowned(store: KeyValueStore, execution_id: uuid.UUID) -> bool:
    """Whether no process is executing the run: its workflow has not begun, or is lost."""
    if not await cancellation.has_live_lease(store, execution_id):
        return True
    return await durable.state_of(execution_id) in durable.UNSTARTED_STATES


async def sweep(database: Database, store: KeyValueStore, *, here: RunsHere) -> int:
    """Resume the runs no process owns; how many were failed because they cannot resume.

    A run stored but never started is queued from its beginning.
    """
    unstarted: list[uuid.UUID] = []

    async def resumed_or_live(execution_id: uuid.UUID) -> bool:
        if await _held(store, execution_id, here):
            return True
        state = await durable.state_of(execution_id)
        if state is None:
            unstarted.append(execution_id)
            return True
        resumed = await durable.resume(execution_id, state)
        if resumed:
            logger.warning("execution_resumed", execution_id=str(execution_id))
        return resumed

    swept = await outcomes.fail_orphans(database, is_live=resumed_or_live)
    if swept:
        logger.warning("executions_swept", count=swept)
    # Read after the sweep's transaction: runs may hold one connection at a time.
    for execution_id in unstarted:
        prepared = await persistence.load_prepared(database, execution_id)
        if prepared is not None:
            await durable.enqueue(prepared)
    return swept
