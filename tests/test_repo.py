"""The template repository itself: docs match the options, CI runs what the README says."""

from __future__ import annotations

import configparser
import os
import re
import tomllib

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import Bake
from tests.helpers import (
    COOKIECUTTER_JSON,
    PYTHON_VERSIONS,
    SUITES,
    SUPPORTED,
    TEMPLATE_DIR,
)
from tests.processes import run, tool

README = (TEMPLATE_DIR / "README.md").read_text(encoding="utf-8")
VARIABLES = [key for key in COOKIECUTTER_JSON if not key.startswith("_")]


def _section(markdown: str, heading: str) -> str:
    match = re.search(rf"^## {heading}\n(.*?)(?=^## |\Z)", markdown, re.MULTILINE | re.DOTALL)
    assert match, f"no '## {heading}' section"
    return match.group(1)


def _bash_blocks(markdown: str) -> list[str]:
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", markdown, re.DOTALL)]


def test_readme_options_table_lists_every_variable() -> None:
    table = _section(README, "Options")
    documented = re.findall(r"^\| `([a-z_]+)` \|", table, re.MULTILINE)
    assert documented == VARIABLES


def test_readme_options_table_shows_the_defaults() -> None:
    table = _section(README, "Options")
    for key in VARIABLES:
        value = COOKIECUTTER_JSON[key]
        default = value[0] if isinstance(value, list) else value
        if isinstance(default, bool):
            default = str(default).lower()
        if "{{" in str(default) or key == "description":
            continue
        row = re.search(rf"^\| `{key}` \| `?([^`|]+)`? \|", table, re.MULTILINE)
        assert row, key
        assert row.group(1).strip() == str(default), key


def test_every_variable_has_a_prompt() -> None:
    assert set(COOKIECUTTER_JSON["__prompts__"]) == set(VARIABLES)


def test_quick_start_is_exactly_two_commands() -> None:
    blocks = _bash_blocks(_section(README, "Quick start"))
    assert len(blocks) == 2
    assert all("\n" not in block for block in blocks)
    run_block, test_block = blocks
    assert "cookiecutter" in run_block
    assert "make install dev" in run_block
    assert "pytest" in test_block


def test_ci_runs_exactly_the_readme_test_command() -> None:
    test_block = _bash_blocks(_section(README, "Quick start"))[1]
    script = (TEMPLATE_DIR / ".ci/run").read_text(encoding="utf-8")
    assert f'TEST_COMMAND="{test_block}"' in script
    assert script.startswith("#!/usr/bin/env bash")
    assert "set -euo pipefail" in script
    assert os.access(TEMPLATE_DIR / ".ci/run", os.X_OK)


def test_quick_start_renders_for_the_python_it_names() -> None:
    run_block = _bash_blocks(_section(README, "Quick start"))[0]
    named = re.search(r"python_version=(\S+)", run_block)
    assert named is None or named.group(1) in PYTHON_VERSIONS


def test_requirements_dev_covers_every_generated_dependency(baked: Bake) -> None:
    """The shared layer-2 venv must hold what the full project declares.

    requirements-dev.txt may add a bound of its own (one the template's tests need).
    """
    pyproject = tomllib.loads((baked("default") / "pyproject.toml").read_text(encoding="utf-8"))
    declared = (
        pyproject["project"]["dependencies"] + pyproject["project"]["optional-dependencies"]["dev"]
    )
    lines = (TEMPLATE_DIR / "requirements-dev.txt").read_text(encoding="utf-8").splitlines()
    have = {
        canonicalize_name(Requirement(line).name): Requirement(line)
        for line in (line.split("#")[0].strip() for line in lines)
        if line
    }
    missing = []
    for text in declared:
        wanted = Requirement(text)
        got = have.get(canonicalize_name(wanted.name))
        if (
            got is None
            or not wanted.extras <= got.extras
            or not set(wanted.specifier) <= set(got.specifier)
        ):
            missing.append(text)
    assert missing == [], "add or update these in requirements-dev.txt"


def test_pytest_ini_declares_the_markers() -> None:
    config = configparser.ConfigParser()
    config.read(TEMPLATE_DIR / "pytest.ini")
    markers = config["pytest"]["markers"]
    for marker in ("slow", "postgres", "e2e"):
        assert re.search(rf"^{marker}:", markers, re.MULTILINE)
    assert config["pytest"]["asyncio_mode"] == "auto"
    assert config["pytest"]["testpaths"] == "tests"


def test_template_ci_matrix() -> None:
    workflow = yaml.safe_load((TEMPLATE_DIR / ".github/workflows/ci.yml").read_text())
    jobs = workflow["jobs"]
    matrices = [job["strategy"]["matrix"] for job in jobs.values() if "strategy" in job]
    versions = {str(v) for matrix in matrices for v in matrix.get("python-version", [])}
    assert versions == set(PYTHON_VERSIONS)


GUIDE = (TEMPLATE_DIR / "TESTING_GUIDE.md").read_text(encoding="utf-8")


def test_testing_guide_covers_markers_and_env_vars() -> None:
    for needle in ("slow", "postgres", "e2e", "TEST_DATABASE_URL", "TEST_REDIS_URL"):
        assert needle in GUIDE


def test_testing_guide_lists_every_test_module_and_suite() -> None:
    modules = sorted(path.name for path in (TEMPLATE_DIR / "tests").glob("test_*.py"))
    assert [name for name in modules if f"`tests/{name}`" not in GUIDE] == []
    assert [name for name in SUITES if f"`{name}`" not in GUIDE] == []


@pytest.mark.parametrize("config_id", ["default"])
def test_supported_list_includes_the_defaults(config_id: str) -> None:
    assert SUPPORTED[config_id] == {}


# --- the template's own Python ------------------------------------------------------------

ROOT_PYPROJECT = tomllib.loads((TEMPLATE_DIR / "pyproject.toml").read_text(encoding="utf-8"))


def test_template_python_follows_the_generated_projects_rules(baked: Bake) -> None:
    """One rule set for all the Python a user of this repository reads."""
    generated = tomllib.loads((baked("default") / "pyproject.toml").read_text(encoding="utf-8"))
    ours, theirs = ROOT_PYPROJECT["tool"], generated["tool"]
    assert ours["ruff"]["line-length"] == theirs["ruff"]["line-length"]
    assert ours["ruff"]["lint"]["select"] == theirs["ruff"]["lint"]["select"]
    assert ours["ruff"]["lint"]["ignore"] == theirs["ruff"]["lint"]["ignore"]
    assert ours["mypy"]["strict"] is True
    assert theirs["mypy"]["strict"] is True


@pytest.mark.parametrize(
    "command",
    [["ruff", "check"], ["ruff", "format", "--check"]],
    ids=["ruff_check", "ruff_format"],
)
def test_template_python_is_lint_clean(command: list[str]) -> None:
    outcome = run([tool(command[0]), *command[1:], "--no-cache", "."], TEMPLATE_DIR, timeout=60)
    assert outcome.ok, outcome.tail()


def test_template_python_passes_strict_mypy() -> None:
    """hooks/, local_extensions.py, tests/ and test_template.py, as the root pyproject.toml lists."""
    outcome = run([tool("mypy"), "--cache-dir", os.devnull], TEMPLATE_DIR, timeout=300)
    assert outcome.ok, outcome.tail()
    assert ROOT_PYPROJECT["tool"]["mypy"]["files"] == [
        "hooks",
        "local_extensions.py",
        "tests",
        "test_template.py",
    ]
