"""Upgrading a generated project with cruft.

The user's changes survive, the template's changes arrive, and a clash is reported,
never lost.

Each test builds a throwaway git repository of the template (cookiecutter.json, hooks/
and the project folder) with two commits, an earlier state and the current files, then
runs the real `cruft create` from the earlier commit and `cruft update` to the current.

The earlier state is synthesised from the current files by undoing known changes
(`EARLIER_EDITS`, `EARLIER_MISSING`), so the assertions do not depend on how much history a clone carries; CI
checkouts are often shallow. When the clone does have `UPGRADE_BASE`, an earlier commit
of this repository, a second test upgrades a project made from it and expects exactly a
fresh render of the current template plus the user's own work.
"""

from __future__ import annotations

import json
import os
import shutil
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import (
    SUPPORTED,
    TEMPLATE_DIR,
)
from tests.processes import (
    GIT_ISOLATED,
    TOOLS_BIN,
    Outcome,
    clean_env,
    run,
    tool,
)

# One worker builds the template repositories the tests share.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("upgrade")]

PROJECT = "{{cookiecutter.project_slug}}"
TEMPLATE_PARTS = ("cookiecutter.json", "local_extensions.py", "hooks", PROJECT)
# The template before cruft support landed; absent from shallow clones.
UPGRADE_BASE = "b9bc1c13e6b5edb12d587aa74ddb79418d7af299"

# path -> (text in the current template, the same text in the earlier one)
EARLIER_EDITS: dict[str, tuple[str, str]] = {
    f"{PROJECT}/Makefile": ("PORT ?= 8000\n", "PORT ?= 8080\n"),
    f"{PROJECT}/README.md": ("## Quick start\n", "## Getting started\n"),
}
# Files the earlier template did not have yet.
EARLIER_MISSING = (f"{PROJECT}/.pre-commit-config.yaml",)
USER_PORT_LINE = "PORT ?= 9000\n"
USER_NOTES = "\n## Our notes\n\nThe on-call rota lives in the team wiki.\n"
USER_FILE = "docs/runbook.md"


def _env() -> dict[str, str]:
    path = f"{TOOLS_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    return clean_env(**GIT_ISOLATED, PATH=path)


def git(cwd: Path, *args: str) -> str:
    """Run git in `cwd`; a failure fails the test with git's output."""
    outcome = run(["git", *args], cwd, env=_env(), timeout=120)
    assert outcome.ok, f"git {' '.join(args)}\n{outcome.tail()}"
    return outcome.output.strip()


def cruft(cwd: Path, *args: str) -> Outcome:
    """The real cruft command line."""
    return run([tool("cruft"), *args], cwd, env=_env(), timeout=300)


@dataclass(frozen=True)
class TemplateRepo:
    """A git repository of the template whose two commits are `earlier` and `current`."""

    path: Path
    earlier: str
    current: str


def copy_current_template(destination: Path) -> None:
    """The files Cookiecutter reads, as they are in this checkout."""
    destination.mkdir(parents=True, exist_ok=True)
    for part in TEMPLATE_PARTS:
        source = TEMPLATE_DIR / part
        if source.is_dir():
            shutil.copytree(
                source,
                destination / part,
                ignore=shutil.ignore_patterns("__pycache__"),
                dirs_exist_ok=True,
            )
        else:
            shutil.copy2(source, destination / part)


def commit_all(repo: Path, message: str) -> str:
    """Stage everything, commit, and return the commit's hash."""
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def undo_known_changes(template: Path) -> None:
    """Turn the current template into the synthesised earlier one."""
    for relative, (current, earlier) in EARLIER_EDITS.items():
        path = template / relative
        text = path.read_text(encoding="utf-8")
        assert text.count(current) == 1, f"{relative} no longer has {current!r}"
        path.write_text(text.replace(current, earlier), encoding="utf-8")
    for relative in EARLIER_MISSING:
        assert (template / relative).is_file(), f"{relative} is gone"
        (template / relative).unlink()


def replace_with_commit(template: Path, commit: str) -> None:
    """Put the template's files as they were at `commit` of this repository."""
    archive = template.parent / "earlier.tar"
    listed = run(["git", "ls-tree", "--name-only", commit], TEMPLATE_DIR, timeout=120)
    assert listed.ok, listed.tail()
    parts = [part for part in TEMPLATE_PARTS if part in listed.output.split()]
    outcome = run(
        ["git", "archive", "--format=tar", f"--output={archive}", commit, *parts],
        TEMPLATE_DIR,
        timeout=120,
    )
    assert outcome.ok, outcome.tail()
    for part in parts:
        target = template / part
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)
    with tarfile.open(archive) as tar:
        tar.extractall(template, filter="data")


def build_template_repo(root: Path, earlier_from: str | None) -> TemplateRepo:
    """Earlier state (synthesised, or a real commit), then the current files on top."""
    template = root / "template"
    copy_current_template(template)
    if earlier_from is None:
        undo_known_changes(template)
    else:
        replace_with_commit(template, earlier_from)
    git(template, "init", "-q", "-b", "main")
    earlier = commit_all(template, "Earlier template")
    copy_current_template(template)
    current = commit_all(template, "Current template")
    return TemplateRepo(template, earlier, current)


@pytest.fixture(scope="module")
def synthesised(tmp_path_factory: pytest.TempPathFactory) -> TemplateRepo:
    return build_template_repo(tmp_path_factory.mktemp("synthesised"), None)


def create_project(repo: TemplateRepo, name: str, out: Path, commit: str) -> Path:
    """`cruft create` at `commit` with a configuration's answers."""
    created = cruft(
        out.parent,
        "create",
        str(repo.path),
        "--checkout",
        commit,
        "--no-input",
        "--output-dir",
        str(out),
        "--extra-context",
        # The test makes the repository itself, as a user who turned git_init off would.
        json.dumps({**SUPPORTED[name], "git_init": False}),
    )
    assert created.ok, created.tail()
    projects = [path for path in out.iterdir() if path.is_dir()]
    assert len(projects) == 1
    return projects[0]


def files(root: Path) -> Iterator[Path]:
    """Every file under `root` outside .git, relative to it."""
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and relative.parts[0] != ".git":
            yield relative


def make_local_changes(project: Path) -> None:
    """A user's work: a clashing edit, a harmless edit, and a new file."""
    makefile = project / "Makefile"
    text = makefile.read_text(encoding="utf-8")
    assert text.count("PORT ?= 8080\n") == 1
    makefile.write_text(text.replace("PORT ?= 8080\n", USER_PORT_LINE))
    readme = project / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + USER_NOTES)
    (project / USER_FILE).parent.mkdir(parents=True)
    (project / USER_FILE).write_text("# Runbook\n")


def assert_template_changes_arrived(project: Path, fresh: Path, clashing: set[str]) -> None:
    """Every file the user did not touch is now the current template's version."""
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert "## Quick start\n" in readme
    assert "## Getting started" not in readme
    assert readme.endswith(USER_NOTES), "the user's README section survives"
    assert (project / USER_FILE).read_text() == "# Runbook\n"
    untouched = set(files(fresh)) - {Path(".cruft.json"), Path("README.md")}
    untouched -= {Path(name) for name in clashing}
    assert (project / ".pre-commit-config.yaml").is_file(), "a file the template added"
    assert Path(".pre-commit-config.yaml") in untouched
    differ = [
        str(path)
        for path in sorted(untouched)
        if (project / path).read_bytes() != (fresh / path).read_bytes()
    ]
    assert differ == []


@pytest.mark.parametrize("name", ["default"])
def test_update_merges_into_a_git_project_and_marks_the_clash(
    synthesised: TemplateRepo, tmp_path: Path, name: str
) -> None:
    """The usual case: a project under git, updated with `make update-template`."""
    project = create_project(synthesised, name, tmp_path / "out", synthesised.earlier)
    state = json.loads((project / ".cruft.json").read_text())
    assert state["commit"] == synthesised.earlier
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "Generate the service")
    assert git(project, "ls-files", ".cruft.json") == ".cruft.json"
    ignored = run(["git", "check-ignore", "-q", ".cruft.json"], project, env=_env(), timeout=60)
    assert ignored.returncode == 1, ".gitignore must not hide .cruft.json"
    make_local_changes(project)
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "Our changes")

    stale = cruft(project, "check", "--checkout", synthesised.current)
    assert stale.returncode == 1
    assert "out of date" in stale.output
    updated = run(
        [
            "make",
            "--no-print-directory",
            "update-template",
            f"ARGS=--skip-apply-ask --checkout {synthesised.current}",
        ],
        project,
        env=_env(),
        timeout=300,
    )
    assert updated.ok, updated.tail()
    assert "Applied patch to 'Makefile' with conflicts." in updated.output

    assert git(project, "diff", "--name-only", "--diff-filter=U") == "Makefile"
    makefile = (project / "Makefile").read_text(encoding="utf-8")
    ours = makefile.index("<<<<<<< ours\n" + USER_PORT_LINE + "=======\n")
    assert makefile.index("PORT ?= 8000\n>>>>>>> theirs\n") > ours
    fresh = create_project(synthesised, name, tmp_path / "fresh", synthesised.current)
    assert_template_changes_arrived(project, fresh, {"Makefile"})
    state = json.loads((project / ".cruft.json").read_text())
    assert state["commit"] == synthesised.current
    current = cruft(project, "check", "--checkout", synthesised.current)
    assert current.ok, current.tail()


@pytest.mark.parametrize("name", ["default"])
def test_update_outside_git_leaves_a_reject_file(
    synthesised: TemplateRepo, tmp_path: Path, name: str
) -> None:
    """Without git there is no three-way merge: the clashing hunk lands in a .rej file.

    The user's line stays as it was.
    """
    project = create_project(synthesised, name, tmp_path / "out", synthesised.earlier)
    make_local_changes(project)
    updated = cruft(project, "update", "--skip-apply-ask", "--checkout", synthesised.current)
    assert updated.ok, updated.tail()
    assert "*.rej files" in updated.output
    assert [path.name for path in project.rglob("*.rej")] == ["Makefile.rej"]
    rejected = (project / "Makefile.rej").read_text(encoding="utf-8")
    assert "-PORT ?= 8080\n+PORT ?= 8000\n" in rejected
    assert USER_PORT_LINE in (project / "Makefile").read_text(encoding="utf-8")
    fresh = create_project(synthesised, name, tmp_path / "fresh", synthesised.current)
    assert_template_changes_arrived(project, fresh, {"Makefile", "Makefile.rej"})


def _has_commit(commit: str) -> bool:
    probe = run(["git", "cat-file", "-e", f"{commit}^{{commit}}"], TEMPLATE_DIR)
    return probe.ok


@pytest.mark.parametrize("name", ["default"])
def test_update_from_an_earlier_commit_of_this_repository(tmp_path: Path, name: str) -> None:
    """A project from UPGRADE_BASE, then worked on, becomes the current render plus that work.

    The update merges with no conflict.
    """
    if not _has_commit(UPGRADE_BASE):
        pytest.skip(f"this clone lacks {UPGRADE_BASE[:12]} (shallow); see the module doc")
    repo = build_template_repo(tmp_path / "repo", UPGRADE_BASE)
    project = create_project(repo, name, tmp_path / "out", repo.earlier)
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "Generate the service")
    fresh = create_project(repo, name, tmp_path / "fresh", repo.current)
    unchanged = [
        path
        for path in files(fresh)
        if path.suffix == ".py"
        and (project / path).is_file()
        and (project / path).read_bytes() == (fresh / path).read_bytes()
    ]
    assert unchanged, "some module is the same in both versions"
    edited = project / unchanged[0]
    edited.write_text(edited.read_text(encoding="utf-8") + "# Tuned for our load.\n")
    (project / USER_FILE).parent.mkdir(parents=True)
    (project / USER_FILE).write_text("# Runbook\n")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "Our changes")

    updated = cruft(project, "update", "--skip-apply-ask", "--checkout", repo.current)
    assert updated.ok, updated.tail()
    assert "conflict" not in updated.output.lower()
    assert git(project, "diff", "--name-only", "--diff-filter=U") == ""
    assert not list(project.rglob("*.rej"))
    mine = {unchanged[0], Path(USER_FILE), Path(".cruft.json")}
    assert set(files(project)) - mine == set(files(fresh)) - mine
    differ = [
        str(path)
        for path in set(files(fresh)) - mine
        if (project / path).read_bytes() != (fresh / path).read_bytes()
    ]
    assert differ == []
    assert (project / unchanged[0]).read_text().endswith("# Tuned for our load.\n")
    assert (project / USER_FILE).read_text() == "# Runbook\n"
    assert json.loads((project / ".cruft.json").read_text())["commit"] == repo.current
