"""Step inputs built from `${name}` templates: one substitution pass, nothing evaluated.

`string.Template` replaces each `${name}` with a value once; a value that itself holds
`${...}` (an agent's answer quoting template syntax) is inserted as text and never read
again, so an agent's output cannot reach other steps' outputs or anything else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from string import Template

INPUT_VARIABLE = "input"


class StepTemplate(Template):
    """`${input}` and `${step_id}`: lowercase names, the same alphabet as step ids."""

    idpattern = r"(?a:[a-z][a-z0-9_]*)"
    flags = re.RegexFlag(0)


class TemplateSyntaxError(ValueError):
    """A `$` that starts no variable: write `$$` for a literal dollar sign."""


def variables_of(text: str) -> list[str]:
    """The names a template uses, in order of first use; raises on bad `$` syntax."""
    template = StepTemplate(text)
    if not template.is_valid():
        raise TemplateSyntaxError("A '$' starts no variable; write '$$' for a dollar sign")
    return template.get_identifiers()


def render(text: str, values: Mapping[str, str]) -> str:
    """The template with each variable replaced by its value; one that has none yet is empty.

    A step that has not run (the first pass of a loop, a branch not taken) contributes an
    empty string: validation has already refused names that no step could ever provide.
    """
    template = StepTemplate(text)
    return template.substitute({name: values.get(name, "") for name in variables_of(text)})
