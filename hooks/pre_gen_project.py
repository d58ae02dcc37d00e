"""Validate the answers before Cookiecutter writes anything.

A bad answer prints one line, `ERROR: <field>: <rule> (got '<value>')`, to stderr and
exits 1; Cookiecutter then deletes the half-made output folder, so nothing is left.

The only Jinja in this file is the string in `load_answers()`, so the module imports
unrendered and `tests/test_hooks.py` unit-tests every function below.
"""

from __future__ import annotations

import json
import keyword
import re
import sys
from collections.abc import Callable, Mapping
from typing import Any

# Names the project must not take. The slug becomes the distribution name in
# pyproject.toml: a project called `fastapi` would replace FastAPI itself on
# `pip install -e .`, and one called `app` or `tests` would collide with its own packages.
RESERVED_SLUGS = frozenset(
    {
        # the generated project's own top-level packages
        "app",
        "tests",
        "test",
        "alembic",
        # runtime dependencies: import names and (underscored) distribution names
        "fastapi",
        "starlette",
        "uvicorn",
        "pydantic",
        "pydantic_core",
        "pydantic_settings",
        "email_validator",
        "multipart",
        "python_multipart",
        "sqlalchemy",
        "aiosqlite",
        "asyncpg",
        "greenlet",
        "redis",
        "jose",
        "python_jose",
        "passlib",
        "libpass",
        "bcrypt",
        "limits",
        "structlog",
        "sse_starlette",
        "httpx",
        "httpx2",
        "httpcore",
        "anyio",
        "openai",
        "anthropic",
        "google",
        "genai",
        "google_genai",
        "mako",
        "cryptography",
        # development dependencies
        "pytest",
        "pytest_asyncio",
        "pytest_httpx2",
        "fakeredis",
        "ruff",
        "mypy",
    }
)

# Soft keywords of every supported Python (3.11 lacks "type"), so the rule does not vary.
SOFT_KEYWORDS = frozenset({"_", "case", "match", "type"})
SLUG_PATTERN = re.compile(r"[a-z][a-z0-9_]*\Z")
SLUG_MAX_LENGTH = 64
# The default slug is derived from the name, so a name that passes fits in a slug.
PROJECT_NAME_MAX_LENGTH = SLUG_MAX_LENGTH
# A longer answer is cut in the error line, which stays readable on one line.
SHOWN_VALUE_LENGTH = 80
# Deliberately simple: one @, a non-empty local part, a dotted domain, no spaces.
EMAIL_PATTERN = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+\Z")
# PEP 440 public versions: epoch, release, pre, post and dev segments (normalized spellings).
VERSION_PATTERN = re.compile(
    r"""
    (\d+!)?                         # epoch
    \d+(\.\d+)*                     # release
    ((a|b|rc)\d+)?                  # pre-release
    (\.post\d+)?                    # post-release
    (\.dev\d+)?                     # development release
    \Z
    """,
    re.VERBOSE,
)


class AnswerError(ValueError):
    """One rejected answer: which field, which rule, and the value given."""

    def __init__(self, field: str, rule: str, value: object) -> None:
        shown = str(value).replace("\r", "\\r").replace("\n", "\\n")  # keep it one line
        if len(shown) > SHOWN_VALUE_LENGTH:
            shown = f"{shown[:SHOWN_VALUE_LENGTH]}..."
        super().__init__(f"{field}: {rule} (got '{shown}')")
        self.field = field
        self.rule = rule
        self.value = value

    def line(self) -> str:
        """The single line printed for a human."""
        return f"ERROR: {self}"


def validate_plain_text(field: str, value: str) -> None:
    """Free text lands inside quoted strings in Python and TOML files, so it stays one plain line."""
    if "\n" in value or "\r" in value:
        raise AnswerError(field, "must be a single line", value)
    if '"' in value or "\\" in value:
        raise AnswerError(field, "must not contain double quotes or backslashes", value)


def validate_project_name(value: str) -> None:
    """The human name titles the API docs and the README."""
    if not value.strip():
        raise AnswerError("project_name", "must not be empty", value)
    if len(value) > PROJECT_NAME_MAX_LENGTH:
        raise AnswerError(
            "project_name", f"must be at most {PROJECT_NAME_MAX_LENGTH} characters", value
        )
    validate_plain_text("project_name", value)


def validate_description(value: str) -> None:
    """The description becomes the package docstring and the pyproject description."""
    validate_plain_text("description", value)


def validate_author_name(value: str) -> None:
    """The author name lands in pyproject.toml and the LICENSE."""
    validate_plain_text("author_name", value)


def validate_project_slug(value: str) -> None:
    """The slug is the folder and distribution name, so it must be a safe Python identifier."""
    field = "project_slug"
    if not value:
        raise AnswerError(field, "must not be empty", value)
    if value != value.lower():
        raise AnswerError(field, "must be lowercase", value)
    if not SLUG_PATTERN.match(value) or not value.isidentifier():
        raise AnswerError(
            field,
            "must be a Python identifier: a lowercase letter, then letters, digits or underscores",
            value,
        )
    if len(value) > SLUG_MAX_LENGTH:
        raise AnswerError(field, f"must be at most {SLUG_MAX_LENGTH} characters", value)
    if keyword.iskeyword(value) or keyword.issoftkeyword(value) or value in SOFT_KEYWORDS:
        raise AnswerError(field, "must not be a Python keyword", value)
    if value in RESERVED_SLUGS:
        raise AnswerError(
            field, "must not shadow the project's own packages or a dependency", value
        )


def validate_author_email(value: str) -> None:
    """The email lands in pyproject metadata, where packaging tools check it."""
    if not EMAIL_PATTERN.match(value):
        raise AnswerError("author_email", "must be an email address like you@example.com", value)


def validate_version(value: str) -> None:
    """The version lands in pyproject.toml, which pip rejects unless it follows PEP 440."""
    if not VERSION_PATTERN.match(value):
        raise AnswerError("version", "must be a PEP 440 version like 0.1.0", value)


VALIDATORS: dict[str, Callable[[str], None]] = {
    "project_name": validate_project_name,
    "project_slug": validate_project_slug,
    "description": validate_description,
    "author_name": validate_author_name,
    "author_email": validate_author_email,
    "version": validate_version,
}


def first_error(answers: Mapping[str, Any]) -> AnswerError | None:
    """Check every validated field in order; the first failure, or None."""
    for field, validate in VALIDATORS.items():
        try:
            validate(str(answers.get(field, "")))
        except AnswerError as error:
            return error
    return None


def load_answers() -> dict[str, Any]:
    """The rendered answers; Cookiecutter fills the string in before running this hook."""
    return json.loads(r"""{{ cookiecutter | tojson }}""")  # type: ignore[no-any-return]


def main(answers: Mapping[str, Any]) -> int:
    """Exit status for the hook: 0 when every answer is valid, else 1 with one line."""
    error = first_error(answers)
    if error is None:
        return 0
    print(error.line(), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(load_answers()))
