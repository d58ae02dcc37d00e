"""Budgets around each model call: reserve the call's most before it, settle after it."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import structlog

from app.ai.budgets.ledger import BudgetLedger, Reservation
from app.ai.budgets.limits import ScopeLimits, limits_for
from app.ai.providers.base import CompletionRequest, Usage
from app.ai.providers.pricing import cost_of
from app.core.config import Settings
from app.core.outages import OUTAGE_ERRORS
from app.core.scopes import BudgetScope, scopes_for
from app.core.store import StoreUnavailableError
from app.db.session import Database

logger = structlog.get_logger(__name__)

# About four characters per token, as the history estimate counts, and a few per message.
CHARS_PER_TOKEN = 4
MESSAGE_OVERHEAD_TOKENS = 4
# What a call that sets no `max_tokens` is assumed to write at most.
UNBOUNDED_OUTPUT_TOKENS = 4_096
# How long a run process reuses a scope's limits: a changed budget applies to its model
# calls within this time (a new run with a budget already spent is refused at once).
LIMITS_CACHE_SECONDS = 5.0
# What a call holds while the counters cannot be reached: nothing to settle.
UNCOUNTED = Reservation((), 0, 0)


@dataclass(frozen=True, slots=True)
class CallMaximum:
    """The most one call can spend: its prompt as estimated plus every token it may write."""

    tokens: int
    cost: Decimal

    @classmethod
    def of(cls, request: CompletionRequest) -> CallMaximum:
        """The prompt's estimate (messages and tool schemas) plus `max_tokens`, and their price."""
        text = "".join(
            message.content
            + "".join(call.name + str(call.arguments) for call in message.tool_calls)
            for message in request.messages
        )
        schemas = json.dumps([tool.parameters for tool in request.tools]) if request.tools else ""
        prompt = (len(text) + len(schemas)) // CHARS_PER_TOKEN
        prompt += MESSAGE_OVERHEAD_TOKENS * len(request.messages)
        output = request.max_tokens or UNBOUNDED_OUTPUT_TOKENS
        usage = Usage(input_tokens=prompt, output_tokens=output)
        return cls(prompt + output, cost_of(request.model, usage))


class CallBudgets:
    """Holds a model call's most against its scopes' budgets, then keeps what it spent."""

    def __init__(self, *, settings: Settings, database: Database, ledger: BudgetLedger) -> None:
        self.settings = settings
        self.database = database
        self.ledger = ledger
        # Each scope's limits and when they were read: a run's later calls need no query.
        self._read: dict[BudgetScope, tuple[float, ScopeLimits]] = {}

    def scopes(self, user_id: uuid.UUID, organization_id: uuid.UUID) -> Sequence[BudgetScope]:
        """The scopes a call counts against: its user's and the organisation the run acts in."""
        return scopes_for(user_id, organization_id)

    async def reserve(
        self,
        user_id: uuid.UUID,
        request: CompletionRequest,
        *,
        organization_id: uuid.UUID,
    ) -> Reservation:
        """Hold the call's most; raises `BudgetExceededError` (holding nothing) if it cannot fit.

        With the counters' store away the call goes on uncounted: an outage of the store
        must not end the runs in flight, as it ends none of their other steps.
        """
        limits = await self._limits(self.scopes(user_id, organization_id))
        maximum = CallMaximum.of(request)
        try:
            return await self.ledger.reserve(limits, tokens=maximum.tokens, cost=maximum.cost)
        except StoreUnavailableError as exc:
            logger.warning("budget_unchecked", user_id=str(user_id), error=str(exc))
            return UNCOUNTED

    async def _limits(self, scopes: Sequence[BudgetScope]) -> list[ScopeLimits]:
        """The scopes' limits, read again once LIMITS_CACHE_SECONDS have passed since the last read."""
        now = time.monotonic()
        fresh = {
            scope: held[1]
            for scope in scopes
            if (held := self._read.get(scope)) is not None and now - held[0] < LIMITS_CACHE_SECONDS
        }
        if len(fresh) < len(scopes):
            try:
                async with self.database.transaction() as session:
                    read = await limits_for(session, scopes, self.settings)
            except OUTAGE_ERRORS as exc:
                # The database away must not end runs in flight: the limits last read (or
                # the defaults) hold until it answers again.
                logger.warning("budget_limits_unread", error=repr(exc))
                return [fresh.get(scope) or self._last_known(scope) for scope in scopes]
            for limits in read:
                fresh[limits.scope] = limits
                self._read[limits.scope] = (now, limits)
            self._forget_stale(now)
        return [fresh[scope] for scope in scopes]

    def _last_known(self, scope: BudgetScope) -> ScopeLimits:
        """The scope's limits as last read, however long ago, else the configured defaults."""
        held = self._read.get(scope)
        return held[1] if held is not None else ScopeLimits.defaults(scope, self.settings)

    def _forget_stale(self, now: float) -> None:
        """Drop entries past their time, so the cache holds only scopes running lately."""
        stale = [
            s for s, (read_at, _) in self._read.items() if now - read_at >= LIMITS_CACHE_SECONDS
        ]
        for scope in stale:
            del self._read[scope]

    async def settle(self, reservation: Reservation, model: str, usage: Usage | None) -> None:
        """Keep what the call spent (nothing when it failed) and give back the rest."""
        usage = usage or Usage()
        try:
            await self.ledger.settle(
                reservation,
                tokens=usage.input_tokens + usage.output_tokens,
                cost=cost_of(model, usage),
            )
        except StoreUnavailableError as exc:
            # The reservation stands until its counters expire with their period.
            logger.warning("budget_unsettled", error=str(exc))
