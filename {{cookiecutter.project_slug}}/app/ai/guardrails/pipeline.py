"""An agent's checks run over one text: blocked (raises) or returned with spans redacted."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from app.ai.guardrails.base import Finding, GuardContext, Guardrail, GuardrailBlockedError, Stage
from app.ai.guardrails.registry import GuardrailRegistry


class GuardrailPipeline:
    """One agent's checks, in its order, for one run."""

    def __init__(self, checks: Sequence[Guardrail[Any]], context: GuardContext) -> None:
        self.checks = tuple(checks)
        self.context = context

    @classmethod
    def of(
        cls,
        raw: Sequence[Mapping[str, Any]],
        registry: GuardrailRegistry,
        context: GuardContext,
    ) -> GuardrailPipeline:
        """The pipeline an agent's stored `guardrails` describe."""
        return cls(registry.build(raw), context)

    def applies_to(self, stage: Stage) -> bool:
        """Whether any check reads texts of this stage, so callers can skip the work."""
        return any(check.applies_to(stage) for check in self.checks)

    def window(self, stage: Stage) -> int | None:
        """How much of a stream's tail to hold back; None holds all of it."""
        windows = [check.window() for check in self.checks if check.applies_to(stage)]
        if any(window is None for window in windows):
            return None
        return max((window for window in windows if window is not None), default=0)

    async def findings(self, text: str, stage: Stage) -> list[tuple[Guardrail[Any], Finding]]:
        """Every check's findings on `text`, each with the check that made it."""
        return [
            (check, finding)
            for check in self.checks
            if check.applies_to(stage)
            for finding in await check.find(text, stage, self.context)
        ]

    async def apply(self, text: str, stage: Stage) -> str:
        """`text` with redacting checks' spans replaced.

        Raises:
            GuardrailBlockedError: a blocking check found something; the first one says why.
        """
        found = await self.findings(text, stage)
        raise_if_blocked(found, stage)
        return redact(text, [finding for _check, finding in found])


def raise_if_blocked(found: Sequence[tuple[Guardrail[Any], Finding]], stage: Stage) -> None:
    """Raise for the earliest finding of a blocking check, if there is one."""
    blocking = [
        (finding.start, check, finding) for check, finding in found if check.action == "block"
    ]
    if blocking:
        _start, check, finding = min(blocking, key=lambda item: item[0])
        raise GuardrailBlockedError(check.name, finding.reason, stage)


def merged(findings: Sequence[Finding]) -> list[Finding]:
    """Findings earliest first, an overlapping later one dropped, so each span is replaced once."""
    kept: list[Finding] = []
    for finding in sorted(findings, key=lambda f: (f.start, -f.end)):
        if kept and finding.start < kept[-1].end:
            continue
        kept.append(finding)
    return kept


def redact(text: str, findings: Sequence[Finding], *, offset: int = 0) -> str:
    """`text` (which starts at `offset` of the whole) with each span replaced by `[label]`."""
    pieces: list[str] = []
    position = 0
    for finding in merged(findings):
        start, end = max(finding.start - offset, position), finding.end - offset
        if end <= position or start >= len(text):
            continue
        pieces.append(text[position:start])
        pieces.append(f"[{finding.label}]")
        position = min(end, len(text))
    pieces.append(text[position:])
    return "".join(pieces)
