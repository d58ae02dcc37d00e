"""Personal data: email addresses, phone numbers, card numbers and national ids.

Card numbers must pass the Luhn check, so an order number or a random run of digits
is left alone; phone numbers need 7 to 15 digits in a shape people write them in.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from app.ai.guardrails.base import (
    Action,
    Finding,
    GuardContext,
    Guardrail,
    GuardrailConfig,
    Stage,
)

PiiKind = Literal["email", "phone", "card", "us_ssn", "uk_nino"]


@dataclass(frozen=True, slots=True)
class _Detector:
    """One kind of personal data: how it looks, what confirms it, and its name in a reason."""

    pattern: re.Pattern[str]
    reason: str
    label: str
    confirm: Callable[[str], bool] = lambda _text: True


def luhn_valid(digits: str) -> bool:
    """Whether a digit string passes the Luhn checksum every payment card number carries."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _card(text: str) -> bool:
    digits = re.sub(r"\D", "", text)
    return 13 <= len(digits) <= 19 and luhn_valid(digits)


def _phone(text: str) -> bool:
    return 7 <= len(re.sub(r"\D", "", text)) <= 15


DETECTORS: dict[str, _Detector] = {
    "card": _Detector(
        re.compile(r"(?<![\d.-])\d(?:[ -]?\d){12,18}(?![\d-])"), "card number", "card", _card
    ),
    "us_ssn": _Detector(
        re.compile(r"(?<![\d-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-])"),
        "US social security number",
        "ssn",
    ),
    "uk_nino": _Detector(
        re.compile(
            r"\b(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
            r" ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b"
        ),
        "UK National Insurance number",
        "nino",
    ),
    "email": _Detector(
        re.compile(
            r"(?<![\w.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
            r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}\b"
        ),
        "email address",
        "email",
    ),
    "phone": _Detector(
        re.compile(
            r"(?<![\w+])(?:\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,5}"
            r"|\(\d{3}\) ?\d{3}[ .-]\d{4}|\d{3}[ .-]\d{3}[ .-]\d{4}"
            r"|0\d{2,4} \d{3,4} ?\d{3,4})(?![\w-])"
        ),
        "phone number",
        "phone",
        _phone,
    ),
}
ALL_KINDS: tuple[PiiKind, ...] = ("card", "us_ssn", "uk_nino", "email", "phone")


class PiiConfig(GuardrailConfig):
    """Which kinds to look for (all by default); redacted as `[email]`, `[card]`... by default."""

    type: Literal["pii"] = "pii"
    action: Action = "redact"
    kinds: tuple[PiiKind, ...] = Field(default=ALL_KINDS, min_length=1)


class PiiGuardrail(Guardrail[PiiConfig]):
    """Finds personal data; cards, ids and emails first, so a card is never read as a phone."""

    config = PiiConfig

    def window(self) -> int | None:
        """Room for a long email address; the other kinds are shorter."""
        return 128

    async def find(self, text: str, stage: Stage, context: GuardContext) -> list[Finding]:
        """Every confirmed span, earliest first; where two overlap, the earlier kind wins."""
        taken: list[Finding] = []
        for kind in ALL_KINDS:
            if kind not in self.settings.kinds:
                continue
            detector = DETECTORS[kind]
            for match in detector.pattern.finditer(text):
                start, end = match.span()
                if not detector.confirm(match.group(0)):
                    continue
                if any(start < other.end and other.start < end for other in taken):
                    continue
                taken.append(Finding(start, end, detector.reason, detector.label))
        return sorted(taken, key=lambda finding: finding.start)
