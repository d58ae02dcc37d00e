"""Step inputs from templates: one pass of substitution, nothing evaluated."""

from __future__ import annotations

import pytest

from app.ai.workflows.templating import TemplateSyntaxError, render, variables_of

# Another template language's syntax, which must pass through as text too.
JINJA_EXPRESSION = "{" * 2 + " 7*7 " + "}" * 2


def test_variables_are_replaced_by_their_values() -> None:
    assert render("Stories:\n${analyst}\nFor: ${input}", {"analyst": "S1", "input": "a shop"}) == (
        "Stories:\nS1\nFor: a shop"
    )


def test_a_step_that_has_not_run_yet_reads_as_empty() -> None:
    assert render("Last report: [${tester}]", {"input": "x"}) == "Last report: []"


def test_template_syntax_in_an_output_is_inserted_as_text_not_evaluated() -> None:
    output = "${secret} $input ${input.__class__} " + JINJA_EXPRESSION
    values = {"analyst": output, "secret": "hidden"}
    assert render("Got: ${analyst}", values) == f"Got: {output}"


def test_attribute_and_index_syntax_are_not_variables() -> None:
    with pytest.raises(TemplateSyntaxError):
        variables_of("${input.__class__}")
    with pytest.raises(TemplateSyntaxError):
        variables_of("${Input}")


def test_a_doubled_dollar_is_a_literal_dollar() -> None:
    assert render("$$5 for ${input}", {"input": "tea"}) == "$5 for tea"
    assert variables_of("$$5 for ${input} and $input") == ["input"]
