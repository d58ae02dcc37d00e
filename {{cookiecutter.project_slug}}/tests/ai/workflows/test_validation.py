"""Each rule a workflow must keep, broken once, and refused naming its step and rule."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pydantic import TypeAdapter

from app.ai.workflows.examples import EXAMPLES
from app.ai.workflows.validation import InvalidWorkflowError, validate
from app.schemas.workflow import Step

STEPS = TypeAdapter(list[Step])
AGENT = uuid.uuid4()


def agent(step_id: str, **fields: Any) -> dict[str, Any]:
    return {"id": step_id, "type": "agent", "agent_id": str(AGENT)} | fields


def broken(steps: list[dict[str, Any]], owned: set[uuid.UUID] | None = None) -> tuple[str, str]:
    with pytest.raises(InvalidWorkflowError) as caught:
        validate(STEPS.validate_python(steps), owned_agents={AGENT} if owned is None else owned)
    return caught.value.step, caught.value.rule


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda example: example.name)
def test_the_shipped_examples_are_valid(example: Any) -> None:
    ids = {a.key: AGENT for a in example.agents}
    validate(STEPS.validate_python(example.steps(ids)), owned_agents={AGENT})


def test_ids_are_unique() -> None:
    assert broken([agent("a", next="a2"), agent("a2"), agent("a2")]) == ("a2", "duplicate_id")


def test_every_step_named_exists() -> None:
    assert broken([agent("a", next="nowhere")]) == ("a", "unknown_step")


def test_agents_are_the_owners() -> None:
    assert broken([agent("a")], owned={uuid.uuid4()}) == ("a", "agent_not_found")


def test_every_step_is_reachable_from_the_first() -> None:
    assert broken([agent("a"), agent("island")]) == ("island", "unreachable")


def test_a_cycle_without_a_bound_is_refused() -> None:
    steps = [
        agent("write", next="check"),
        {
            "id": "check",
            "type": "branch",
            "source": "write",
            "cases": [{"label": "AGAIN", "next": "write"}],
        },
    ]
    step, rule = broken(steps)
    assert rule == "unbounded_cycle"
    assert step in {"write", "check"}


def test_a_loop_bounded_by_max_times_is_accepted() -> None:
    steps = [
        agent("write", next="check"),
        {
            "id": "check",
            "type": "branch",
            "source": "write",
            "cases": [{"label": "AGAIN", "next": "write", "max_times": 3}],
        },
    ]
    validate(STEPS.validate_python(steps), owned_agents={AGENT})


def test_a_next_chain_back_is_a_cycle_even_beside_a_bounded_case() -> None:
    steps = [
        agent("a", next="b"),
        agent("b", next="a"),
    ]
    assert broken(steps)[1] == "unbounded_cycle"


def test_templates_name_only_the_input_and_earlier_steps() -> None:
    steps = [
        agent("a", input="${input}", next="b"),
        agent("b", input="${a} ${later}", next="later"),
        agent("later"),
    ]
    assert broken(steps) == ("b", "unknown_variable")


def test_a_template_cannot_name_an_unknown_variable() -> None:
    assert broken([agent("a", input="Hello ${name}")]) == ("a", "unknown_variable")


def test_a_stray_dollar_is_a_syntax_error_but_a_doubled_one_is_text() -> None:
    assert broken([agent("a", input="costs $ 5")]) == ("a", "template_syntax")
    validate(
        STEPS.validate_python([agent("a", input="costs $$5 for ${input}")]), owned_agents={AGENT}
    )


def test_a_branch_reads_an_agent_step_before_it() -> None:
    steps = [
        agent("a", next="route"),
        {"id": "route", "type": "branch", "source": "b", "cases": [{"label": "X", "next": "b"}]},
        agent("b"),
    ]
    assert broken(steps) == ("route", "branch_source")


def test_an_approval_cannot_come_first() -> None:
    assert broken([{"id": "ok", "type": "approval", "next": "a"}, agent("a")]) == (
        "ok",
        "approval_first",
    )


def test_parallel_branches_are_agent_steps_reached_only_from_it() -> None:
    steps = [
        {"id": "fan", "type": "parallel", "branches": ["x", "y"], "next": "after"},
        agent("x"),
        agent("y", next="after"),
        agent("after", input="${fan}"),
    ]
    assert broken(steps) == ("fan", "parallel_branch")


def test_a_parallel_step_joins_branches_that_later_steps_read() -> None:
    steps = [
        {"id": "fan", "type": "parallel", "branches": ["x", "y"], "next": "after"},
        agent("x"),
        agent("y"),
        agent("after", input="${fan} ${x} ${y}"),
    ]
    validate(STEPS.validate_python(steps), owned_agents={AGENT})


def test_a_parallel_branch_cannot_read_its_own_join() -> None:
    steps = [
        {"id": "fan", "type": "parallel", "branches": ["x", "y"]},
        agent("x", input="${fan}"),
        agent("y"),
    ]
    assert broken(steps) == ("x", "unknown_variable")
