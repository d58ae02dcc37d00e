"""The generated project's developer tooling.

The .env.example check, pre-commit, the dependency audit in CI, and `make install` with uv.

The layer-1 tests read renders or run the check script with this venv's Python; the
`slow` ones install hooks into a git repository and packages into a fresh venv.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.version import Version

from tests.conftest import Bake
from tests.helpers import (
    RUNNING_PYTHON,
    SUPPORTED,
    text_files,
)
from tests.processes import (
    GIT_ISOLATED,
    TOOLS_BIN,
    clean_env,
    run,
    tool,
)

INSTALL_TIMEOUT = float(os.environ.get("KICKSTART_INSTALL_TIMEOUT", "900"))
SHARED_VENV = Path(sys.prefix)

needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


@pytest.fixture(params=["default", "bare"])
def config_id(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def project(baked: Bake, config_id: str) -> Path:
    return baked(config_id)


def check_env_example(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python scripts/check_env_example.py` from the project folder, with this venv."""
    return subprocess.run(
        [sys.executable, "scripts/check_env_example.py", *args],
        cwd=project,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# --- layer 1 -------------------------------------------------------------------------


def test_env_example_check_passes_on_the_render(project: Path) -> None:
    result = check_env_example(project)
    assert result.returncode == 0, result.stderr


def test_env_example_check_names_a_removed_setting(project: Path, tmp_path: Path) -> None:
    text = (project / ".env.example").read_text(encoding="utf-8")
    assert re.search(r"^# SECRET_KEY=", text, re.MULTILINE)
    edited = tmp_path / ".env.example"
    edited.write_text(re.sub(r"^# SECRET_KEY=.*\n", "", text, flags=re.MULTILINE), encoding="utf-8")
    result = check_env_example(project, str(edited))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [".env.example: missing SECRET_KEY"]


def test_env_example_check_names_an_unknown_setting(project: Path, tmp_path: Path) -> None:
    edited = tmp_path / ".env.example"
    text = (project / ".env.example").read_text(encoding="utf-8")
    edited.write_text(f"{text}# RETIRED_SETTING=1\n", encoding="utf-8")
    result = check_env_example(project, str(edited))
    assert result.returncode == 1
    assert "RETIRED_SETTING is not a setting" in result.stderr


@needs_make
def test_make_lint_runs_the_env_example_check(project: Path) -> None:
    dry = run(["make", "--dry-run", "--no-print-directory", "lint"], project, timeout=60)
    assert dry.ok, dry.tail()
    assert "scripts/check_env_example.py" in dry.output


def _pre_commit_config(project: Path) -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(
        (project / ".pre-commit-config.yaml").read_text(encoding="utf-8")
    )
    return config


def test_pre_commit_config_is_valid_and_complete(project: Path) -> None:
    outcome = run(
        [tool("pre-commit"), "validate-config", ".pre-commit-config.yaml"],
        project,
        timeout=60,
    )
    assert outcome.ok, outcome.tail()
    hooks = {
        hook["id"]: repo["repo"]
        for repo in _pre_commit_config(project)["repos"]
        for hook in repo["hooks"]
    }
    assert hooks == {
        "end-of-file-fixer": "https://github.com/pre-commit/pre-commit-hooks",
        "trailing-whitespace": "https://github.com/pre-commit/pre-commit-hooks",
        "ruff-check": "https://github.com/astral-sh/ruff-pre-commit",
        "ruff-format": "https://github.com/astral-sh/ruff-pre-commit",
        "mypy": "local",
        "env-example": "local",
    }


def test_pre_commit_ruff_is_one_the_project_accepts(project: Path) -> None:
    """The hook's pinned ruff satisfies the project's own `ruff>=` requirement."""
    ruff_repo = next(
        repo
        for repo in _pre_commit_config(project)["repos"]
        if repo["repo"].endswith("/ruff-pre-commit")
    )
    pinned = Version(str(ruff_repo["rev"]).removeprefix("v"))
    pyproject = (project / "pyproject.toml").read_text(encoding="utf-8")
    line = re.search(r'"(ruff[<>=!~][^"]*)"', pyproject)
    assert line, "ruff is not a dev dependency"
    assert Requirement(line.group(1)).specifier.contains(pinned)


def test_files_pass_the_whitespace_hooks(project: Path) -> None:
    """What end-of-file-fixer and trailing-whitespace would change on a first run."""
    offenders = []
    for path in text_files(project):
        data = path.read_bytes()
        if data and (not data.endswith(b"\n") or data.endswith(b"\n\n")):
            offenders.append(f"{path.relative_to(project)}: end of file")
        for number, line in enumerate(data.split(b"\n"), 1):
            if line.rstrip(b"\r") != line.rstrip():
                offenders.append(f"{path.relative_to(project)}:{number}: trailing space")
    assert offenders == []


def _audit_step(project: Path) -> str:
    workflow = yaml.safe_load((project / ".github/workflows/ci.yml").read_text(encoding="utf-8"))
    scripts = [
        step["run"]
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if "pip-audit" in step.get("run", "")
    ]
    assert len(scripts) == 1, "one pip-audit step in the generated CI"
    return str(scripts[0])


@pytest.mark.parametrize("config_id", ["default"])
def test_generated_ci_audits_the_installed_dependencies(project: Path, tmp_path: Path) -> None:
    """The step's own commands: freeze what is installed, then pip-audit that lock.

    Here as a dry run, which checks the options and reads the lock without network.
    """
    script = _audit_step(project).replace('"$RUNNER_TEMP', f'"{tmp_path}')
    freeze, install, audit = script.splitlines()
    assert install == "pip install pip-audit"
    freeze_args = shlex.split(freeze)
    assert freeze_args[:-2] == ["pip", "freeze", "--exclude-editable"]
    assert freeze_args[-2] == ">"
    lock = Path(freeze_args[-1])
    frozen = subprocess.run(
        [sys.executable, "-m", *freeze_args[:-2]],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    lock.write_text(frozen.stdout, encoding="utf-8")
    audit_args = shlex.split(audit)
    assert audit_args[0] == "pip-audit"
    assert "--strict" in audit_args
    dry = run([tool("pip-audit"), *audit_args[1:], "--dry-run"], tmp_path, timeout=300)
    assert dry.ok, dry.tail()
    assert re.search(r"Dry run: would have audited [1-9]\d* packages", dry.output)


@needs_make
def test_make_update_template_needs_a_cruft_project(project: Path) -> None:
    outcome = run(["make", "--no-print-directory", "update-template"], project, timeout=60)
    assert outcome.returncode == 2
    assert "no .cruft.json" in outcome.output


# --- layer 2: git hooks and uv ---------------------------------------------------------


def _git(project: Path, *args: str, env: dict[str, str]) -> str:
    outcome = run(["git", *args], project, env=env, timeout=60)
    assert outcome.ok, f"git {' '.join(args)}\n{outcome.tail()}"
    return outcome.output


@pytest.mark.slow
@needs_make
@pytest.mark.parametrize("name", ["bare"])
def test_make_hooks_installs_hooks_that_block_a_bad_commit(
    render: Callable[[str, dict[str, Any]], Path], tmp_path: Path, name: str
) -> None:
    """`make hooks`, then real commits: the local hooks pass a good one and refuse a bad one.

    The local hooks (mypy and the .env.example check) refuse a commit that drops a
    setting. The remote hooks need the network to fetch, so the test keeps only the
    local ones.
    """
    project = render(
        f"tooling-hooks-{name}",
        {**SUPPORTED[name], "python_version": RUNNING_PYTHON, "git_init": False},
    )
    (project / ".venv").symlink_to(SHARED_VENV, target_is_directory=True)
    env = clean_env(**GIT_ISOLATED, PRE_COMMIT_HOME=str(tmp_path / "pre-commit"))

    outside = run(["make", "--no-print-directory", "hooks"], project, env=env)
    assert outside.returncode == 2
    assert "needs a git repository" in outside.output

    _git(project, "init", "-q", "-b", "main", env=env)
    (project / ".git/info/exclude").write_text(".venv\n", encoding="utf-8")
    _git(project, "add", "-A", env=env)
    _git(project, "commit", "-q", "-m", "Render", env=env)
    installed = run(["make", "--no-print-directory", "hooks"], project, env=env)
    assert installed.ok, installed.tail()
    assert "pre-commit" in (project / ".git/hooks/pre-commit").read_text()

    config = _pre_commit_config(project)
    config["repos"] = [repo for repo in config["repos"] if repo["repo"] == "local"]
    (project / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    _git(project, "commit", "-q", "--no-verify", "-am", "Local hooks only", env=env)

    env_example = project / ".env.example"
    original = env_example.read_text(encoding="utf-8")
    env_example.write_text(f"{original}# Our own note.\n", encoding="utf-8")
    (project / "app/notes.py").write_text('"""Notes."""\n\nNOTE: str = "kept"\n')
    _git(project, "add", "-A", env=env)
    good = run(["git", "commit", "-m", "Add notes"], project, env=env, timeout=600)
    assert good.ok, good.tail()
    assert re.search(r"mypy \(strict\)\.+Passed", good.output), good.output
    assert re.search(r"lists every setting\.+Passed", good.output), good.output

    head = _git(project, "rev-parse", "HEAD", env=env)
    env_example.write_text(re.sub(r"^# SECRET_KEY=.*\n", "", original, flags=re.MULTILINE))
    _git(project, "add", "-A", env=env)
    bad = run(["git", "commit", "-m", "Drop a setting"], project, env=env, timeout=600)
    assert not bad.ok
    assert re.search(r"lists every setting\.+Failed", bad.output), bad.output
    assert "missing SECRET_KEY" in bad.output
    assert _git(project, "rev-parse", "HEAD", env=env) == head


@pytest.mark.slow
@needs_make
@pytest.mark.parametrize("name", ["bare"])
def test_make_install_uses_uv_when_it_is_installed(
    render: Callable[[str, dict[str, Any]], Path], name: str
) -> None:
    """With uv on PATH, `make install` creates the venv and installs with it.

    The result is an ordinary venv (pip included) that runs the project's own tools.
    """
    if not (TOOLS_BIN / "uv").exists():
        pytest.skip("uv is not installed in this venv (requirements-dev.txt has it)")
    project = render(f"tooling-uv-{name}", {**SUPPORTED[name], "python_version": RUNNING_PYTHON})
    env = clean_env(PATH=f"{TOOLS_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    install = run(
        ["make", "--no-print-directory", "install", f"PYTHON={sys.executable}"],
        project,
        env=env,
        timeout=INSTALL_TIMEOUT,
    )
    assert install.ok, install.tail()
    assert re.search(r"^\S*uv venv --seed ", install.output, re.MULTILINE)
    assert re.search(r"^\S*uv pip install ", install.output, re.MULTILINE)
    assert "-m pip install" not in install.output
    venv = project / ".venv"
    assert re.search(r"^uv = ", (venv / "pyvenv.cfg").read_text(), re.MULTILINE)
    assert (venv / "bin/pip").exists(), "--seed keeps pip in the venv"
    where = run(
        [str(venv / "bin/python"), "-c", "import app; print(app.__file__)"],
        project,
        env=clean_env(),
        timeout=60,
    )
    assert where.ok
    assert Path(where.output.strip()).is_relative_to(project)
    lint = run(["make", "--no-print-directory", "lint"], project, env=clean_env())
    assert lint.ok, lint.tail()
