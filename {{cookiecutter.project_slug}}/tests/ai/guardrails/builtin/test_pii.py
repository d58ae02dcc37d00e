"""PII detection: each kind found where people write it, and near misses left alone."""

from __future__ import annotations

import pytest

from app.ai.guardrails.base import GuardContext, Stage
from app.ai.guardrails.builtin.pii import PiiConfig, PiiGuardrail, luhn_valid
from app.ai.guardrails.pipeline import GuardrailPipeline


async def _redacted(text: str, context: GuardContext) -> str:
    pipeline = GuardrailPipeline([PiiGuardrail(PiiConfig())], context)
    return await pipeline.apply(text, Stage.INPUT)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Write to ada.lovelace+work@example.co.uk today", "Write to [email] today"),
        ("Call +44 20 7946 0958 now", "Call [phone] now"),
        ("Call (415) 555-2671 now", "Call [phone] now"),
        ("US line 415-555-2671.", "US line [phone]."),
        ("Pay with 4111 1111 1111 1111 please", "Pay with [card] please"),
        ("Pay with 5500-0000-0000-0004.", "Pay with [card]."),
        ("card 4012888888881881", "card [card]"),
        ("SSN 123-45-6789 on file", "SSN [ssn] on file"),
        ("NI number JG 12 34 56 C here", "NI number [nino] here"),
        ("NI number AB123456D.", "NI number [nino]."),
    ],
)
async def test_finds_and_redacts_each_kind(
    text: str, expected: str, guard_context: GuardContext
) -> None:
    assert await _redacted(text, guard_context) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Order 4111 1111 1111 1112 shipped",  # fails the Luhn check
        "Reference 1234567890123456",  # a random run of digits, not a card
        "Released on 2024-01-15 at 10:30",
        "Version 3.12.1 of the tool",
        "SSN-like 000-12-3456 and 666-12-3456 are never issued",
        "Prefix GB123456A is not a valid NI number",
        "user@localhost has no domain",
        "Room 12, floor 3",
    ],
)
async def test_near_misses_are_left_alone(text: str, guard_context: GuardContext) -> None:
    assert await _redacted(text, guard_context) == text


def test_luhn_accepts_real_card_numbers_only() -> None:
    assert luhn_valid("4111111111111111")
    assert luhn_valid("378282246310005")
    assert not luhn_valid("4111111111111112")
    assert not luhn_valid("1234567890123456")


async def test_only_the_kinds_asked_for(guard_context: GuardContext) -> None:
    pipeline = GuardrailPipeline([PiiGuardrail(PiiConfig(kinds=("email",)))], guard_context)
    text = "ada@example.com or 415-555-2671"
    assert await pipeline.apply(text, Stage.OUTPUT) == "[email] or 415-555-2671"
