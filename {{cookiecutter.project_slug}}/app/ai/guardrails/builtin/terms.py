"""Blocked words, phrases and patterns, matched case-insensitively on word boundaries."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator

from app.ai.guardrails.base import Finding, GuardContext, Guardrail, GuardrailConfig, Stage

Term = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class BlockedTermsConfig(GuardrailConfig):
    """Terms matched as whole words (`class` does not match `classic`) and regex patterns.

    `max_match_length` bounds what a pattern can match, so a stream holds back that much.
    """

    type: Literal["blocked_terms"] = "blocked_terms"
    terms: list[Term] = Field(default_factory=list, max_length=500)
    patterns: list[Annotated[str, StringConstraints(min_length=1, max_length=500)]] = Field(
        default_factory=list, max_length=100
    )
    max_match_length: int = Field(default=64, ge=1, le=4096)
    label: Annotated[str, StringConstraints(min_length=1, max_length=40)] = "blocked"

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        """A pattern that does not compile is the request's mistake, named here."""
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"invalid pattern {pattern!r}: {exc}") from None
        return patterns


class BlockedTermsGuardrail(Guardrail[BlockedTermsConfig]):
    """Finds the agent's blocked terms and patterns."""

    config = BlockedTermsConfig

    def __init__(self, settings: BlockedTermsConfig) -> None:
        super().__init__(settings)
        terms = [_word_bounded(term) for term in settings.terms]
        self._terms = [re.compile(term, re.IGNORECASE) for term in terms]
        self._patterns = [re.compile(p, re.IGNORECASE) for p in settings.patterns]

    def window(self) -> int | None:
        """The longest term, or what a pattern may match, with a character of context."""
        longest = max((len(term) for term in self.settings.terms), default=0)
        if self.settings.patterns:
            longest = max(longest, self.settings.max_match_length)
        return longest + 1

    async def find(self, text: str, stage: Stage, context: GuardContext) -> list[Finding]:
        """Every match, earliest first; where two overlap, the first wins."""
        # The reason never quotes the match: a blocked reply must not reach the client in it.
        spans = sorted(
            (match.start(), match.end(), reason)
            for regexes, reason in (
                (self._terms, "blocked term"),
                (self._patterns, "blocked pattern"),
            )
            for regex in regexes
            for match in regex.finditer(text)
            if match.end() > match.start()
        )
        findings: list[Finding] = []
        for start, end, reason in spans:
            if findings and start < findings[-1].end:
                continue
            findings.append(Finding(start, end, reason, self.settings.label))
        return findings


def _word_bounded(term: str) -> str:
    """The term as a regex that matches only whole words, with any run of spaces inside."""
    words = [re.escape(word) for word in term.split()]
    start = r"\b" if re.match(r"\w", term) else ""
    end = r"\b" if re.search(r"\w$", term) else ""
    return start + r"\s+".join(words) + end
