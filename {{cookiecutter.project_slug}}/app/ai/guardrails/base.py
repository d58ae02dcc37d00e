"""The guardrail contract: a check finds spans in a text; its action blocks or redacts them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from app.ai.providers.factory import ProviderFactory


class Stage(StrEnum):
    """Where in a run a text is checked."""

    INPUT = "input"
    OUTPUT = "output"
    TOOL_RESULT = "tool_result"


Action = Literal["block", "redact"]


class GuardrailConfig(BaseModel):
    """One check as an agent lists it; each check's own config adds `type` and its options.

    `action` says what a finding does: `block` fails the run, `redact` replaces the span.
    `stages` says which texts it reads; each check sets its own default.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    action: Action = "block"
    stages: tuple[Stage, ...] = Field(default=(Stage.INPUT, Stage.OUTPUT), min_length=1)


@dataclass(frozen=True, slots=True)
class Finding:
    """A span a check objects to: where it is, why, and what replaces it when redacted."""

    start: int
    end: int
    reason: str
    label: str


@dataclass(frozen=True, slots=True)
class GuardContext:
    """What a check may use besides the text: the agent's provider, for model-based checks."""

    providers: ProviderFactory
    agent_provider: str


class GuardrailBlockedError(Exception):
    """A check blocked a text; the run fails with the check's name and its reason."""

    def __init__(self, guardrail: str, reason: str, stage: Stage) -> None:
        super().__init__(f"{guardrail}: {reason} in {_STAGE_WORDS[stage]}")
        self.guardrail = guardrail
        self.reason = reason
        self.stage = stage

    def __reduce__(self) -> tuple[Any, ...]:
        """Rebuilt whole when a durable run replays the step that raised it."""
        return (GuardrailBlockedError, (self.guardrail, self.reason, self.stage))


_STAGE_WORDS = {Stage.INPUT: "input", Stage.OUTPUT: "output", Stage.TOOL_RESULT: "tool result"}

C = TypeVar("C", bound=GuardrailConfig)


class Guardrail(ABC, Generic[C]):
    """Base class for checks: a `config` model whose `type` names it, and `find`.

    Subclasses set `config` (a `GuardrailConfig` subclass with `type: Literal["<name>"]`
    and the check's options) and implement `find`. A check is built from one agent's
    config per run, so it may precompile what it needs in `__init__`.

    `window` is the longest text a finding can span, so a stream holds back that much
    of its tail until it cannot be the start of a finding; None holds the whole reply.
    """

    config: ClassVar[type[GuardrailConfig]]

    def __init__(self, settings: C) -> None:
        self.settings = settings

    @classmethod
    def type_name(cls) -> str:
        """The `type` an agent's config names this check by."""
        default = cls.config.model_fields["type"].default
        if not isinstance(default, str):
            raise TypeError(f"{cls.config.__name__}.type needs a Literal default")
        return default

    @property
    def name(self) -> str:
        """The check's name, as a blocked run reports it."""
        return self.type_name()

    @property
    def action(self) -> Action:
        """What a finding does."""
        return self.settings.action

    def applies_to(self, stage: Stage) -> bool:
        """Whether the agent asked for this check at `stage`."""
        return stage in self.settings.stages

    @classmethod
    def check_usable(cls, settings: GuardrailConfig, context: GuardContext) -> None:
        """Refuse, when an agent is saved, a config that could never run.

        Raises:
            UnprocessableError: the reason, for the client to correct.
        """

    def window(self) -> int | None:
        """The longest span a finding can cover; see the class docstring."""
        return 256

    @abstractmethod
    async def find(self, text: str, stage: Stage, context: GuardContext) -> list[Finding]:
        """The spans of `text` this check objects to, earliest first.

        A check that judges the whole text (a moderation model) returns one span over all
        of it.
        """
