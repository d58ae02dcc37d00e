"""`Idempotency-Key` on the requests that start a run: a retry gets the run already started.

As at Stripe, a key names one request of one user for `IDEMPOTENCY_WINDOW_SECONDS`.
Sent again with the same request, it answers with the run the key started instead of
starting another; sent with a different request (another agent, endpoint or body), it
is refused with 422. Unlike Stripe, which answers 409 while the first request is still
being processed, a repeat waits for the run just as the first request does (or follows
its events, for a stream), so a client whose connection dropped simply sends the request
again. A request that failed before its run was stored (a 4xx, a 503) leaves no key.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Header
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.ai.runs import PreparedRun, RunEvent, RunManager, events
from app.api.user_limits import check_run_capacity
from app.core.config import Settings
from app.crud import idempotency as idempotency_crud
from app.db.types import utc_now
from app.models import Agent
from app.models.idempotency import KEY_LENGTH

IDEMPOTENCY_HEADER = "Idempotency-Key"
# Set on an answer that repeats an earlier request's run, as Stripe does.
REPLAYED_HEADER = "Idempotent-Replayed"
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]+")
_KEY_SCHEMA = {"minLength": 1, "maxLength": KEY_LENGTH, "pattern": r"^[\x20-\x7E]+$"}


def _invalid(kind: str, message: str) -> RequestValidationError:
    """A 422 naming the header, in the shape of every other validation error."""
    return RequestValidationError(
        [{"type": kind, "loc": ("header", IDEMPOTENCY_HEADER), "msg": message}]
    )


async def idempotency_key(
    value: Annotated[
        str | None,
        Header(
            alias=IDEMPOTENCY_HEADER,
            description=(
                "Any unique string (a UUID, say) of 1 to 255 printable ASCII characters. "
                "Sent again with the same request, it answers with the run it started "
                "instead of starting another; with a different request it is a 422."
            ),
            json_schema_extra=_KEY_SCHEMA,
            examples=["5f0c9a8e-2b7d-4c1a-9e3f-7a6b5c4d3e2f"],
        ),
    ] = None,
) -> str | None:
    """The request's key, refused unless it is 1 to 255 printable ASCII characters."""
    if value is not None and not (len(value) <= KEY_LENGTH and _PRINTABLE_ASCII.fullmatch(value)):
        raise _invalid(
            "idempotency_key_invalid",
            f"{IDEMPOTENCY_HEADER} must be 1 to {KEY_LENGTH} printable ASCII characters",
        )
    return value


IdempotencyKeyDep = Annotated[str | None, Depends(idempotency_key)]


@dataclass(frozen=True, slots=True)
class KeyedRequest:
    """A request's key and the digest of what it asks, which a repeat must match."""

    key: str
    request_hash: str

    @classmethod
    def of(cls, key: str | None, *, endpoint: str, payload: BaseModel) -> KeyedRequest | None:
        """None without a key; the body is compared as parsed, so spacing and order do not count."""
        if key is None:
            return None
        body = json.dumps(payload.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256(f"{endpoint}\n{body}".encode()).hexdigest()
        return cls(key=key, request_hash=digest)


def _window_start(settings: Settings) -> datetime:
    return utc_now() - timedelta(seconds=settings.idempotency_window_seconds)


async def earlier_run(
    session: AsyncSession, keyed: KeyedRequest | None, *, owner_id: uuid.UUID, settings: Settings
) -> uuid.UUID | None:
    """The execution the key started within the window, if any; 422 for a different request."""
    if keyed is None:
        return None
    stored = await idempotency_crud.find(
        session, owner_id=owner_id, key=keyed.key, since=_window_start(settings)
    )
    if stored is None:
        return None
    if stored.request_hash != keyed.request_hash:
        raise _invalid(
            "idempotency_key_reused",
            f"This {IDEMPOTENCY_HEADER} was already used for a different request; "
            f"send a new key for a new request",
        )
    return stored.execution_id


async def start_or_replay(
    runs: RunManager,
    session: AsyncSession,
    keyed: KeyedRequest | None,
    *,
    settings: Settings,
    user_id: uuid.UUID,
    **fields: Any,
) -> PreparedRun | uuid.UUID:
    """The run to start, stored; or the execution an earlier request with the key started.

    A new run must fit the limits on runs in progress and budgets; a repeat costs nothing more.
    """
    earlier = await earlier_run(session, keyed, owner_id=user_id, settings=settings)
    if earlier is not None:
        return earlier
    # A run acts in its agent's organisation, whose budget and run cap it shares.
    agent: Agent = fields["agent"]
    await check_run_capacity(
        session,
        owner_id=user_id,
        organization_id=agent.organization_id,
        settings=settings,
        ledger=runs.ledger,
    )
    return await prepare_once(runs, session, keyed, settings=settings, user_id=user_id, **fields)


async def prepare_once(
    runs: RunManager,
    session: AsyncSession,
    keyed: KeyedRequest | None,
    *,
    settings: Settings,
    user_id: uuid.UUID,
    **fields: Any,
) -> PreparedRun | uuid.UUID:
    """Store the run with its key; or the execution a request with the same key stored first.

    The key commits with the run or not at all. Of two requests racing with one key, the
    second's insert fails on the key and it answers with the first's execution instead.
    """
    if keyed is None:
        return await runs.prepare(user_id=user_id, session=session, **fields)
    # An expired key of this user's may be used again: its row goes, and it goes for good.
    await idempotency_crud.forget_older(session, owner_id=user_id, before=_window_start(settings))
    try:
        with idempotency_crud.holding(session, key=keyed.key, request_hash=keyed.request_hash):
            return await runs.prepare(user_id=user_id, session=session, **fields)
    except IntegrityError:
        await session.rollback()
        winner = await earlier_run(session, keyed, owner_id=user_id, settings=settings)
        if winner is None:
            raise
        return winner


async def outcome_of(
    runs: RunManager, execution_id: uuid.UUID, *, organization_id: uuid.UUID
) -> RunEvent | None:
    """Wait for the run to end, wherever it runs; its final event (None if it is gone)."""
    followed = runs.follow(execution_id, organization_id=organization_id)
    final: RunEvent | None = None
    try:
        async for event in followed:
            if event.name in events.FINAL_EVENTS:
                final = event
    finally:
        # Closed at once, not when collected: it holds a subscription to the store.
        close = getattr(followed, "aclose", None)
        if close is not None:
            await close()
    return final
