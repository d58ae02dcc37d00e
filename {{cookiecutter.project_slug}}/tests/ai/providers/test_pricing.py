"""Cost per call from the price table; unknown and local models are free."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.ai.providers.base import Usage
from app.ai.providers.pricing import PRICES, cost_of, price_of

MILLION_EACH = Usage(input_tokens=1_000_000, output_tokens=1_000_000)


def test_known_model_costs_input_plus_output() -> None:
    assert cost_of("gpt-4o-mini", Usage(input_tokens=1_000, output_tokens=500)) == Decimal(
        "0.000450"
    )


@pytest.mark.parametrize(
    ("model", "base"),
    [
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("claude-3-5-haiku-latest", "claude-3-5-haiku"),
        ("claude-opus-4-1@20250805", "claude-opus-4-1"),
        ("gemini-2.0-flash-001", "gemini-2.0-flash"),
        ("models/gemini-2.5-flash", "gemini-2.5-flash"),
        ("GPT-4.1-Mini", "gpt-4.1-mini"),
    ],
)
def test_pinned_ids_cost_what_their_model_costs(model: str, base: str) -> None:
    assert price_of(model) == PRICES[base]
    assert cost_of(model, MILLION_EACH) == PRICES[base].input + PRICES[base].output


def test_a_variant_is_not_priced_as_its_family() -> None:
    assert price_of("gpt-4o-mini") != price_of("gpt-4o")
    assert price_of("gemini-2.5-flash-lite") != price_of("gemini-2.5-flash")
    assert price_of("gpt-4o-realtime-preview") is None


@pytest.mark.parametrize("model", ["scripted", "llama3.2", "qwen2.5:7b", "", "my-fine-tune"])
def test_unknown_and_local_models_cost_nothing(model: str) -> None:
    assert cost_of(model, MILLION_EACH) == Decimal("0")


def test_no_usage_costs_nothing() -> None:
    assert cost_of("claude-opus-4-1", Usage()) == Decimal("0")


def test_costs_are_rounded_to_the_micro_dollar() -> None:
    assert cost_of("gpt-5-nano", Usage(input_tokens=3)) == Decimal("0.000000")
    assert cost_of("gpt-5-nano", Usage(input_tokens=10)) == Decimal("0.000001")
    assert cost_of("gpt-5-nano", Usage(input_tokens=10)).as_tuple().exponent == -6


def test_every_price_is_a_non_negative_decimal() -> None:
    for price in PRICES.values():
        assert isinstance(price.input, Decimal)
        assert price.input >= 0
        assert price.output >= 0
