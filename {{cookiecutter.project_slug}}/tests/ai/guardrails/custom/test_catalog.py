"""Your checks' catalog: each one names a type of its own and validates its own config."""

from __future__ import annotations

from app.ai.guardrails.catalog import BUILTIN_GUARDRAILS, default_registry
from app.ai.guardrails.custom.catalog import CUSTOM_GUARDRAILS


def test_custom_guardrails_keep_types_of_their_own() -> None:
    builtin = {check.type_name() for check in BUILTIN_GUARDRAILS}
    names = [check.type_name() for check in CUSTOM_GUARDRAILS]
    assert not builtin & set(names), "a custom guardrail may not reuse a built-in's type"
    assert len(set(names)) == len(names)
    for check in CUSTOM_GUARDRAILS:
        # Every option has a default or the check says which it needs: either way it parses.
        fields = check.config.model_fields
        required = {name for name, field in fields.items() if field.is_required()}
        if not required:
            assert default_registry().parse([{"type": check.type_name()}])
