"""Which step a branch leads to, given the output it tests and the cases already taken."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from app.schemas.workflow import BranchCase, BranchStep

_MISSING = object()


def last_line(output: str) -> str:
    """The output's last non-blank line, stripped: where an agent is told to put its label."""
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _field(output: str, path: str) -> Any:
    """The value at a dotted path in JSON output (a fenced block allowed), or `_MISSING`."""
    text = output.strip()
    if text.startswith("```"):
        text = text.strip("`").removeprefix("json").strip()
    try:
        value: Any = json.loads(text)
    except ValueError:
        return _MISSING
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def matches(case: BranchCase, output: str) -> bool:
    """Whether the case's label is the output's last line, or its field equals its value."""
    if case.label is not None:
        return last_line(output) == case.label
    assert case.field is not None
    value = _field(output, case.field)
    return value is not _MISSING and value == case.equals


def choose(
    step: BranchStep, output: str, taken: Mapping[int, int]
) -> tuple[str | None, int | None]:
    """The next step and the index of the case taken (None: the default).

    A case that has been taken `max_times` already is passed over, so a bounded loop
    goes on to the default once its bound is reached.
    """
    for index, case in enumerate(step.cases):
        if case.max_times is not None and taken.get(index, 0) >= case.max_times:
            continue
        if matches(case, output):
            return case.next, index
    return step.default, None
