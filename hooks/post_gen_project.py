"""Prune what was not chosen, make the first commit, then tell the user what to run next.

One table, `MANIFEST`, says which files belong to which option: each entry keeps its
paths only when the option has the value given, and deletes them otherwise. Jinja
conditionals handle lines inside shared files; whole files belong here.

The only Jinja in this file is the string in `load_answers()`, so the module imports
unrendered and `tests/test_hooks.py` unit-tests every function below.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Owned:
    """Paths that exist only while `option` equals `keep_when`."""

    keep_when: object
    paths: tuple[str, ...]


MANIFEST: dict[str, Owned] = {
    "use_redis": Owned(
        True,
        (
            "app/core/store_redis.py",
            "app/core/rate_limit_redis.py",
            "tests/core/test_store_redis.py",
            "tests/core/test_rate_limit_redis.py",
            "tests/outages/test_redis_outage.py",
            "tests/support/redis_server.py",
            "deploy/terraform/modules/cache",
        ),
    ),
    "use_openai": Owned(
        True,
        (
            "app/ai/providers/openai.py",
            "tests/ai/providers/test_openai.py",
            "tests/ai/providers/openai_wire.py",
            "tests/api/test_provider_faults.py",
            "tests/api/test_conversation_summaries.py",
            "tests/api/test_idempotent_retries.py",
            "app/ai/knowledge/embedders/openai.py",
            "tests/ai/knowledge/embedders/test_openai.py",
            "tests/ai/guardrails/builtin/test_moderation_openai.py",
            "tests/api/test_guardrails_openai.py",
        ),
    ),
    "use_anthropic": Owned(
        True,
        (
            "app/ai/providers/anthropic.py",
            "tests/ai/providers/test_anthropic.py",
            "tests/ai/providers/anthropic_wire.py",
        ),
    ),
    "use_gemini": Owned(
        True,
        (
            "app/ai/providers/gemini.py",
            "tests/ai/providers/test_gemini.py",
            "tests/ai/providers/gemini_wire.py",
            "app/ai/knowledge/embedders/gemini.py",
            "tests/ai/knowledge/embedders/test_gemini.py",
        ),
    ),
    "database": Owned(
        "postgresql",
        (
            "app/ai/knowledge/stores/pgvector.py",
            "tests/ai/knowledge/stores/test_pgvector.py",
            "tests/support/pgvector.py",
            "tests/outages/test_database_outage.py",
        ),
    ),
    "use_opentelemetry": Owned(
        True, ("app/core/tracing.py", "tests/core/test_tracing.py", "tests/support/tracing.py")
    ),
    "include_docker": Owned(True, ("Dockerfile", "docker-compose.yml", ".dockerignore")),
    "include_github_actions": Owned(True, (".github",)),
    "include_terraform": Owned(True, ("deploy/terraform",)),
    "include_kubernetes": Owned(True, ("deploy/k8s",)),
}

TRUE_WORDS = frozenset({"1", "true", "yes", "y", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "n", "off"})


def normalize(value: object) -> object:
    """Answers may arrive as booleans or as the strings a command line passes."""
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS | FALSE_WORDS:
            return word in TRUE_WORDS
    return value


def paths_to_prune(answers: Mapping[str, Any], manifest: Mapping[str, Owned]) -> list[str]:
    """Every manifest path whose option does not have the value that keeps it."""
    doomed: list[str] = []
    for option, owned in manifest.items():
        if normalize(answers.get(option)) != normalize(owned.keep_when):
            doomed.extend(owned.paths)
    return doomed


def remove_path(root: Path, relative: str) -> bool:
    """Delete one file or folder under `root`; a path that is not there is not an error."""
    target = root / relative
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    elif target.exists() or target.is_symlink():
        target.unlink()
    else:
        return False
    return True


def remove_empty_parents(root: Path, relative: str) -> None:
    """Drop folders that pruning left empty, walking up but never past `root`."""
    root = root.resolve()
    parent = (root / relative).parent.resolve()
    while parent != root and root in parent.parents:
        if not parent.is_dir() or any(parent.iterdir()):
            break
        parent.rmdir()
        parent = parent.parent


def prune(root: Path, relatives: Iterable[str]) -> list[str]:
    """Remove the given paths and any folders left empty; return what was removed."""
    removed = [relative for relative in relatives if remove_path(root, relative)]
    for relative in relatives:
        remove_empty_parents(root, relative)
    return removed


FIRST_COMMIT_MESSAGE = "Initial commit"
GIT_TIMEOUT_SECONDS = 60


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run one git command in the project, capturing its output."""
    return subprocess.run(  # noqa: S603 - git with fixed arguments
        ["git", *args],  # noqa: S607 - git from PATH, as the user runs it
        cwd=root,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=GIT_TIMEOUT_SECONDS,
        check=False,
    )


def identity_options(root: Path, answers: Mapping[str, Any]) -> list[str]:
    """`-c user.name=... -c user.email=...` from the answers, only where git has none set."""
    options: list[str] = []
    for key, answer in (("user.name", "author_name"), ("user.email", "author_email")):
        if _git(root, "config", key).returncode != 0:
            options += ["-c", f"{key}={answers.get(answer, '')}"]
    return options


CRUFT_MANAGED = (
    "Rendered by cruft: no git repository was made, since cruft renders the template again "
    "on each update. Run `git init && git add -A && git commit -m 'Generate the service'`."
)


def git_init(root: Path, answers: Mapping[str, Any]) -> str:
    """Make the project a git repository with every rendered file in a first commit.

    Returns a line saying what happened; a missing or failing git leaves the files as
    they are and says so, since the project itself is complete without a repository.
    """
    if shutil.which("git") is None:
        return "git was not found: the project is not a git repository (run `git init`)."
    if (root / ".git").exists():
        return "Rendered over an existing git repository: review and commit the changes yourself."
    steps = [
        ("init", ["init", "-q"]),
        ("add", ["add", "-A"]),
        ("commit", [*identity_options(root, answers), "commit", "-q", "-m", FIRST_COMMIT_MESSAGE]),
    ]
    for name, args in steps:
        completed = _git(root, *args)
        if completed.returncode != 0:
            reason = (completed.stderr or completed.stdout).strip().splitlines()
            detail = reason[-1] if reason else f"exit status {completed.returncode}"
            return f"git {name} failed ({detail}); commit the files yourself."
    return f"Initialized a git repository with a first commit ({FIRST_COMMIT_MESSAGE!r})."


def next_steps(answers: Mapping[str, Any], root: Path) -> str:
    """What to run after rendering, printed once the project is written."""
    slug = answers.get("project_slug", root.name)
    return "\n".join(
        [
            f"Created {answers.get('project_name', slug)} in {root}",
            "",
            "Next steps:",
            f"  cd {slug}",
            "  make install      # .venv with the project and its dev tools",
            "  make dev          # http://localhost:8000 (SQLite file, no other service)",
            "  open http://localhost:8000/playground/   # chat with an agent in the browser",
            "  open http://localhost:8000/docs          # the API, interactive",
            "",
            "Then read AGENTS.md to add your own agents, tools and providers.",
        ]
    )


def load_answers() -> dict[str, Any]:
    """The rendered answers; Cookiecutter fills the string in before running this hook."""
    return json.loads(r"""{{ cookiecutter | tojson }}""")  # type: ignore[no-any-return]


def main(answers: Mapping[str, Any], root: Path) -> int:
    """Prune, commit, then print the next steps; the hook runs inside the new project folder."""
    prune(root, paths_to_prune(answers, MANIFEST))
    if normalize(answers.get("git_init", True)) is True:
        # cruft renders the template again, into a scratch folder, on every update; a
        # repository there would put git's binary objects into the diff it applies.
        print(CRUFT_MANAGED if answers.get("_commit") else git_init(root, answers))
    print(next_steps(answers, root))
    return 0


if __name__ == "__main__":
    sys.exit(main(load_answers(), Path.cwd()))
