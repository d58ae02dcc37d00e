"""Branches: exact labels, JSON fields, defaults, and loop bounds."""

from __future__ import annotations

from app.ai.workflows.routing import choose, last_line
from app.schemas.workflow import BranchStep


def branch(*cases: dict[str, object], default: str | None = "done") -> BranchStep:
    return BranchStep.model_validate(
        {"id": "route", "type": "branch", "source": "a", "cases": list(cases), "default": default}
    )


def test_a_label_matches_the_last_line_exactly() -> None:
    step = branch({"label": "FAIL", "next": "fix"})
    assert choose(step, "Ran 3 tests\n  FAIL  \n", {}) == ("fix", 0)
    assert choose(step, "FAIL: 2 tests\nPASS", {}) == ("done", None)
    assert choose(step, "fail", {}) == ("done", None)
    assert last_line("") == ""


def test_a_field_matches_a_value_in_json_output() -> None:
    step = branch({"field": "result.status", "equals": "failed", "next": "fix"})
    assert choose(step, '{"result": {"status": "failed"}}', {}) == ("fix", 0)
    assert choose(step, '```json\n{"result": {"status": "failed"}}\n```', {}) == ("fix", 0)
    assert choose(step, '{"result": {"status": "passed"}}', {}) == ("done", None)
    assert choose(step, "not json", {}) == ("done", None)
    assert choose(step, '{"result": 3}', {}) == ("done", None)


def test_a_case_taken_max_times_is_passed_over() -> None:
    step = branch({"label": "FAIL", "next": "fix", "max_times": 2})
    assert choose(step, "FAIL", {0: 1}) == ("fix", 0)
    assert choose(step, "FAIL", {0: 2}) == ("done", None)


def test_no_default_ends_the_run() -> None:
    assert choose(branch({"label": "X", "next": "x"}, default=None), "Y", {}) == (None, None)
