"""The guardrail contract: a block survives the round trip a durable run's replay takes."""

from __future__ import annotations

import copy

from app.ai.guardrails.base import GuardrailBlockedError, Stage


def test_a_block_is_rebuilt_whole_from_its_recorded_form() -> None:
    blocked = GuardrailBlockedError("pii", "email address", Stage.INPUT)

    # Rebuilt through `__reduce__`, as pickling (DBOS's recorded errors) rebuilds it.
    replayed = copy.deepcopy(blocked)

    assert isinstance(replayed, GuardrailBlockedError)
    assert str(replayed) == "pii: email address in input"
    assert (replayed.guardrail, replayed.reason, replayed.stage) == (
        "pii",
        "email address",
        "input",
    )
