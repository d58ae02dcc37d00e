"""What a model call costs, from list prices in USD per million tokens.

Vendors change prices and add models: check their pricing pages and edit `PRICES`. A key
also matches its dated or pinned ids ("gpt-4o-2024-08-06", "claude-sonnet-4-5-20250929",
"gemini-2.0-flash-001"), but not other variants, which may be priced differently. Unknown
models, local servers and the scripted provider cost nothing here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from app.ai.providers.base import Usage

MILLION = Decimal(1_000_000)
MICRO_DOLLAR = Decimal("0.000001")
# A release date, a pinned version number, "-latest", or a Vertex "@version".
_PINNED = re.compile(r"(?:-(?:\d{8}|\d{4}-\d{2}-\d{2}|\d{3}|latest)|@[\w.-]+)$")


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """USD per million input and output tokens."""

    input: Decimal
    output: Decimal


def _usd(input_per_million: str, output_per_million: str) -> ModelPrice:
    return ModelPrice(Decimal(input_per_million), Decimal(output_per_million))


PRICES: dict[str, ModelPrice] = {
    # OpenAI
    "gpt-5": _usd("1.25", "10.00"),
    "gpt-5-mini": _usd("0.25", "2.00"),
    "gpt-5-nano": _usd("0.05", "0.40"),
    "gpt-5-pro": _usd("15.00", "120.00"),
    "gpt-4.1": _usd("2.00", "8.00"),
    "gpt-4.1-mini": _usd("0.40", "1.60"),
    "gpt-4.1-nano": _usd("0.10", "0.40"),
    "gpt-4o": _usd("2.50", "10.00"),
    "gpt-4o-mini": _usd("0.15", "0.60"),
    "o3": _usd("2.00", "8.00"),
    "o3-pro": _usd("20.00", "80.00"),
    "o3-mini": _usd("1.10", "4.40"),
    "o4-mini": _usd("1.10", "4.40"),
    "text-embedding-3-small": _usd("0.02", "0"),
    "text-embedding-3-large": _usd("0.13", "0"),
    # Anthropic
    "claude-opus-4-6": _usd("5.00", "25.00"),
    "claude-opus-4-5": _usd("5.00", "25.00"),
    "claude-opus-4-1": _usd("15.00", "75.00"),
    "claude-opus-4": _usd("15.00", "75.00"),
    "claude-sonnet-4-6": _usd("3.00", "15.00"),
    "claude-sonnet-4-5": _usd("3.00", "15.00"),
    "claude-sonnet-4": _usd("3.00", "15.00"),
    "claude-3-7-sonnet": _usd("3.00", "15.00"),
    "claude-haiku-4-5": _usd("1.00", "5.00"),
    "claude-3-5-haiku": _usd("0.80", "4.00"),
    "claude-3-haiku": _usd("0.25", "1.25"),
    # Google (prompts up to 200k tokens)
    "gemini-3.1-pro-preview": _usd("2.00", "12.00"),
    "gemini-3-flash-preview": _usd("0.50", "3.00"),
    "gemini-2.5-pro": _usd("1.25", "10.00"),
    "gemini-2.5-flash": _usd("0.30", "2.50"),
    "gemini-2.5-flash-lite": _usd("0.10", "0.40"),
    "gemini-2.0-flash": _usd("0.10", "0.40"),
    "gemini-2.0-flash-lite": _usd("0.075", "0.30"),
    "gemini-embedding-001": _usd("0.15", "0"),
}


def price_of(model: str) -> ModelPrice | None:
    """The price of `model`, or of the model it pins a dated version of."""
    name = model.strip().lower().removeprefix("models/")
    return PRICES.get(name) or PRICES.get(_PINNED.sub("", name))


def cost_of(model: str, usage: Usage) -> Decimal:
    """USD for one call, to the micro-dollar; zero for models without a known price."""
    price = price_of(model)
    if price is None:
        return Decimal("0")
    total = (usage.input_tokens * price.input + usage.output_tokens * price.output) / MILLION
    return total.quantize(MICRO_DOLLAR, rounding=ROUND_HALF_UP)
