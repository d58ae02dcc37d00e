"""Checks on a reply as it streams: nothing blocked or redacted reaches the client.

The guard holds back a tail of the reply as long as the longest span a check can find
(its `window`), since that tail could still be the start of a match, and releases text
only up to where no finding can still grow across. A finding that touches the end of
what has arrived may yet change (a term followed by more letters is no longer a word),
so it blocks only once text follows it, or when the reply is complete. What the client
was sent is exactly `text`, which is what the run stores.
"""

from __future__ import annotations

from app.ai.guardrails.base import Finding, Stage
from app.ai.guardrails.pipeline import GuardrailPipeline, raise_if_blocked, redact

# Characters that must follow a finding before it counts, mid-stream.
SETTLED_AFTER = 2


class StreamGuard:
    """Feed it deltas; it answers what may be sent now, and raises when a check blocks."""

    def __init__(self, pipeline: GuardrailPipeline, stage: Stage = Stage.OUTPUT) -> None:
        self._pipeline = pipeline
        self._stage = stage
        self._window = pipeline.window(stage)
        self._raw = ""
        self._released = 0
        self._sent: list[str] = []

    @property
    def text(self) -> str:
        """Everything released so far, redactions included."""
        return "".join(self._sent)

    async def feed(self, delta: str) -> str:
        """Take a delta; the text that may be sent now (often empty while held back)."""
        self._raw += delta
        window = self._window
        pending = len(self._raw) - self._released
        if window is None or pending <= 2 * window:
            return ""
        raw = self._raw
        found = await self._pipeline.findings(raw, self._stage)
        settled_end = len(raw) - SETTLED_AFTER
        raise_if_blocked([item for item in found if item[1].end <= settled_end], self._stage)
        boundary = len(raw) - window
        for _check, finding in found:
            unsettled = finding.end > settled_end
            if finding.start < boundary and (unsettled or finding.end > boundary):
                boundary = finding.start
        return self._release(boundary, [finding for _check, finding in found])

    async def finish(self) -> str:
        """The reply is complete: check all of it; the rest that may be sent."""
        found = await self._pipeline.findings(self._raw, self._stage)
        raise_if_blocked(found, self._stage)
        return self._release(len(self._raw), [finding for _check, finding in found])

    def _release(self, boundary: int, findings: list[Finding]) -> str:
        """Send raw text up to `boundary`, with the findings inside it redacted."""
        if boundary <= self._released:
            return ""
        start = self._released
        inside = [f for f in findings if f.end > start and f.start < boundary]
        piece = redact(self._raw[start:boundary], inside, offset=start)
        self._released = boundary
        self._sent.append(piece)
        return piece
