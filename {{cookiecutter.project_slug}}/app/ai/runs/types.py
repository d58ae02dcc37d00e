"""The values a run carries: what it runs, where it is stored, and what it has cost."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import MISSING, dataclass, field, fields
from decimal import Decimal
from typing import Any

from app.ai.providers.base import ChatMessage, Completion, Usage
from app.ai.providers.pricing import cost_of
from app.models import Agent

# The organisation of a run recorded before runs carried one; its execution row knows it.
UNRECORDED_ORGANIZATION = uuid.UUID(int=0)


def restore_fields(instance: Any, state: Sequence[Any]) -> None:
    """Unpickle `state`, giving fields added since it was recorded their defaults.

    The durable engine keeps a queued or interrupted run's arguments pickled, and an
    upgrade may resume them: fields are only ever added at the end, with a default.
    """
    for index, item in enumerate(fields(instance)):
        if index < len(state):
            value = state[index]
        elif item.default is not MISSING:
            value = item.default
        else:
            raise TypeError(f"{type(instance).__name__} was recorded without {item.name}")
        object.__setattr__(instance, item.name, value)


@dataclass(frozen=True, slots=True)
class AgentSpec:
    """The parts of an agent a run needs, copied so the run outlives the request's session."""

    id: uuid.UUID
    name: str
    system_prompt: str
    provider: str
    model: str
    temperature: float
    max_tokens: int
    tools: tuple[str, ...]
    guardrails: tuple[dict[str, Any], ...] = ()

    def __setstate__(self, state: Sequence[Any]) -> None:
        """An agent recorded by an older version gets the fields added since."""
        restore_fields(self, state)

    @classmethod
    def of(cls, agent: Agent) -> AgentSpec:
        """Copy the agent's run settings out of its database row."""
        return cls(
            id=agent.id,
            name=agent.name,
            system_prompt=agent.system_prompt,
            provider=agent.provider,
            model=agent.model,
            temperature=agent.temperature,
            max_tokens=agent.max_tokens,
            tools=tuple(agent.tools or ()),
            guardrails=tuple(agent.guardrails or ()),
        )


@dataclass(frozen=True, slots=True)
class WorkflowStepRef:
    """The workflow step a run is: its outcome is copied onto the step as it is stored."""

    run_id: uuid.UUID
    step_id: str
    iteration: int


@dataclass(frozen=True, slots=True)
class PreparedRun:
    """A run whose execution and user message are stored, ready to be launched.

    `history` is the conversation as stored when it was all written just now (a new
    conversation), so the run need not read it back; None means it is read at the start.
    A run handed its history starts without a recorded step (`records_start` False): its
    start depends on nothing but this object, so a resumed run can simply start again.
    """

    execution_id: uuid.UUID
    conversation_id: uuid.UUID
    # Who started it: their limits and budgets.
    user_id: uuid.UUID
    agent: AgentSpec
    history: tuple[ChatMessage, ...] | None = None
    # The organisation it runs in (its agent's); new fields go last, with a default.
    organization_id: uuid.UUID = UNRECORDED_ORGANIZATION
    # Set when a workflow runs it as one of its steps.
    workflow_step: WorkflowStepRef | None = None
    # True for runs recorded by versions that recorded every start.
    records_start: bool = True

    def __setstate__(self, state: Sequence[Any]) -> None:
        """A run recorded by an older version gets the fields added since."""
        restore_fields(self, state)


@dataclass(slots=True)
class Draft:
    """The assistant reply streamed so far, kept (marked incomplete) if the run ends mid-reply.

    `message_id` is the stored row once the text has been saved, so later saves and the
    finished reply update that row instead of adding another. `final` is the model's
    answer, stored with the run's outcome in the same transaction.
    """

    text: str = ""
    message_id: uuid.UUID | None = None
    saved_length: int = 0
    saved_at: float = 0.0
    final: Completion | None = None

    @property
    def unsaved(self) -> bool:
        """Whether text arrived since the last save."""
        return len(self.text) > self.saved_length


@dataclass(slots=True)
class RunTally:
    """Usage, cost and any unfinished reply so far, kept even when the run fails half-way."""

    usage: Usage = field(default_factory=Usage)
    cost: Decimal = Decimal("0")
    draft: Draft = field(default_factory=Draft)

    def add(self, model: str, usage: Usage) -> None:
        """Count one model call's tokens and their price."""
        self.usage = self.usage + usage
        self.cost += cost_of(model, usage)
