"""Validate the answers before Cookiecutter writes anything.

Every bad answer prints one line, `ERROR: <field>: <rule> (got '<value>')`, to stderr,
all at once, followed by how to retry with `--replay-file` without retyping the rest;
the hook then exits 1. Cookiecutter deletes the project folder it made; an output
folder that would be left empty (`-o new/dir`) is removed once Cookiecutter is done.

The only Jinja in this file is the string in `load_answers()`, so the module imports
unrendered and `tests/test_hooks.py` unit-tests every function below.
"""

from __future__ import annotations

import json
import keyword
import os
import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
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


def all_errors(answers: Mapping[str, Any]) -> list[AnswerError]:
    """Check every validated field in order, so one run reports every bad answer."""
    errors: list[AnswerError] = []
    for field, validate in VALIDATORS.items():
        try:
            validate(str(answers.get(field, "")))
        except AnswerError as error:
            errors.append(error)
    return errors


def first_error(answers: Mapping[str, Any]) -> AnswerError | None:
    """The first failing field in order, or None."""
    errors = all_errors(answers)
    return errors[0] if errors else None


def replay_hint(answers: Mapping[str, Any]) -> list[str]:
    """How to retry with the answers Cookiecutter already saved, instead of retyping them."""
    repo_dir = str(answers.get("_repo_dir", "")) or "."
    template = str(answers.get("_template", "")) or repo_dir
    saved = Path("~/.cookiecutter_replay") / f"{Path(os.path.abspath(repo_dir)).name}.json"
    return [
        f"Your answers are saved in {saved} (Cookiecutter's default replay folder).",
        "Fix the fields above in that file, then retry without retyping the others:",
        f"  cookiecutter --replay-file {saved} {template}",
    ]


# Run detached after a refusal: waits for Cookiecutter to delete the project folder,
# then removes the output folder if that left it empty (os.rmdir refuses a full one).
CLEANUP_SCRIPT = """
import os, sys, time
project, output = sys.argv[1], sys.argv[2]
deadline = time.monotonic() + 30
while os.path.exists(project) and time.monotonic() < deadline:
    time.sleep(0.05)
if not os.path.exists(project):
    try:
        os.rmdir(output)
    except OSError:
        pass
"""


def leaves_empty_output(project_dir: Path, start_dir: Path | None) -> bool:
    """Whether the output folder would be an empty leftover after the refusal.

    True when it holds only this project's empty folder and is not where the user ran
    Cookiecutter.
    """
    output = project_dir.parent
    if start_dir is not None and output.resolve() == start_dir.resolve():
        return False
    if output == output.parent or output.resolve() == Path.home().resolve():
        return False
    try:
        entries = list(output.iterdir())
    except OSError:
        return False
    return entries == [project_dir] and not any(project_dir.iterdir())


def schedule_output_cleanup(project_dir: Path) -> None:
    """Remove the output folder from a detached watcher, once Cookiecutter is done with it.

    Cookiecutter deletes the project folder only after this hook exits.
    """
    subprocess.Popen(  # noqa: S603 - this interpreter, a fixed script, our own paths
        [sys.executable, "-c", CLEANUP_SCRIPT, str(project_dir), str(project_dir.parent)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        close_fds=True,
    )


def start_dir() -> Path | None:
    """The folder the user ran Cookiecutter from (the shell's PWD), if known."""
    pwd = os.environ.get("PWD")
    return Path(pwd) if pwd else None


def load_answers() -> dict[str, Any]:
    """The rendered answers; Cookiecutter fills the string in before running this hook."""
    return json.loads(r"""{{ cookiecutter | tojson }}""")  # type: ignore[no-any-return]


def main(answers: Mapping[str, Any], project_dir: Path | None = None) -> int:
    """Exit status for the hook: 0 when every answer is valid, else 1 with one line each."""
    errors = all_errors(answers)
    if not errors:
        return 0
    lines = [error.line() for error in errors] + replay_hint(answers)
    print("\n".join(lines), file=sys.stderr, flush=True)
    if project_dir is not None and leaves_empty_output(project_dir, start_dir()):
        schedule_output_cleanup(project_dir)
    return 1


if __name__ == "__main__":
    sys.exit(main(load_answers(), Path.cwd()))
