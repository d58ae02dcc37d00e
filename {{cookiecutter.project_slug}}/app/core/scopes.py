"""Whom a budget or a rate limit counts against: a user or an organisation, by id alone."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum


class ScopeKind(StrEnum):
    """The kinds of owner a budget, a usage counter or a rate limit can have."""

    USER = "user"
    ORGANIZATION = "organization"


@dataclass(frozen=True, slots=True)
class BudgetScope:
    """One owner whose spending is counted and capped; a run is checked against several."""

    kind: ScopeKind
    id: uuid.UUID

    @property
    def label(self) -> str:
        """`user:<id>`, as keys and error bodies name the scope."""
        return f"{self.kind.value}:{self.id}"


def scopes_for(user_id: uuid.UUID, organization_id: uuid.UUID) -> list[BudgetScope]:
    """The scopes a request or run counts against: its user's, then its organisation's.

    Every one of them must have room: a member's run spends the member's own budget and
    the organisation's, so a team shares one budget while each person keeps theirs.
    """
    return [
        BudgetScope(ScopeKind.USER, user_id),
        BudgetScope(ScopeKind.ORGANIZATION, organization_id),
    ]
