"""Unit tests of the hook functions, imported unrendered from hooks/ by path."""

from __future__ import annotations

import keyword
import os
import subprocess
from pathlib import Path

import pytest
from cookiecutter.environment import StrictEnvironment

from local_extensions import derive_slug
from tests.helpers import COOKIECUTTER_JSON, HOOKS_DIR, load_hook
from tests.processes import wait_until

pre = load_hook("pre_gen_project")
post = load_hook("post_gen_project")


# --- pre_gen_project -----------------------------------------------------------------


@pytest.mark.parametrize(
    "slug", ["agent_service", "a", "bots2", "my_agents_v2", "acme_ai", "x" * 64]
)
def test_valid_slugs_pass(slug: str) -> None:
    pre.validate_project_slug(slug)


@pytest.mark.parametrize(
    ("slug", "rule"),
    [
        ("", "must not be empty"),
        ("MyService", "must be lowercase"),
        ("my-service", "must be a Python identifier"),
        ("my service", "must be a Python identifier"),
        ("1service", "must be a Python identifier"),
        ("_private", "must be a Python identifier"),
        ("café", "must be a Python identifier"),
        ("x" * 65, "at most 64"),
        ("class", "keyword"),
        ("import", "keyword"),
        ("match", "keyword"),
        ("type", "keyword"),
        ("app", "shadow"),
        ("tests", "shadow"),
        ("test", "shadow"),
        ("alembic", "shadow"),
        ("fastapi", "shadow"),
        ("pydantic_settings", "shadow"),
        ("google", "shadow"),
    ],
)
def test_invalid_slugs_fail_with_their_rule(slug: str, rule: str) -> None:
    with pytest.raises(pre.AnswerError, match=rule) as caught:
        pre.validate_project_slug(slug)
    assert caught.value.field == "project_slug"
    assert caught.value.value == slug


@pytest.mark.parametrize("word", keyword.kwlist)
def test_every_keyword_is_refused(word: str) -> None:
    with pytest.raises(pre.AnswerError):
        pre.validate_project_slug(word)


def test_reserved_names_cover_the_app_packages_and_main_dependencies() -> None:
    must = {"app", "tests", "test", "alembic", "fastapi", "sqlalchemy", "pydantic"}
    must |= {"starlette", "uvicorn", "openai", "anthropic", "google", "redis", "httpx"}
    must |= {"jose", "passlib"}
    assert must <= pre.RESERVED_SLUGS
    assert all(name.isidentifier() and name == name.lower() for name in pre.RESERVED_SLUGS)


@pytest.mark.parametrize("email", ["you@example.com", "a.b+c@sub.example.co.uk", "x_y@d-1.io"])
def test_valid_emails_pass(email: str) -> None:
    pre.validate_author_email(email)


@pytest.mark.parametrize(
    "email",
    ["", "you", "you@", "@example.com", "you@example", "a b@example.com", "a@b@c.com"],
)
def test_invalid_emails_fail(email: str) -> None:
    with pytest.raises(pre.AnswerError, match="email address"):
        pre.validate_author_email(email)


@pytest.mark.parametrize(
    "version",
    [
        "0.1.0",
        "1",
        "2.0",
        "1.2.3.4",
        "1.0a1",
        "1.0b2",
        "2.0.0rc1",
        "1.0.post1",
        "1.0.dev3",
        "1!2.0",
    ],
)
def test_pep440_versions_pass(version: str) -> None:
    pre.validate_version(version)


@pytest.mark.parametrize(
    "version",
    ["", "v1.0", "1.0.0-beta", "latest", "1..0", "1.0.", "1.0 ", "0.1.0+local"],
)
def test_non_pep440_versions_fail(version: str) -> None:
    with pytest.raises(pre.AnswerError, match="PEP 440"):
        pre.validate_version(version)


@pytest.mark.parametrize("project_name", ["", " ", "\t"])
def test_blank_project_name_fails(project_name: str) -> None:
    with pytest.raises(pre.AnswerError, match="must not be empty"):
        pre.validate_project_name(project_name)


def test_project_name_up_to_the_limit_passes() -> None:
    pre.validate_project_name("A" * pre.PROJECT_NAME_MAX_LENGTH)


@pytest.mark.parametrize("length", [pre.PROJECT_NAME_MAX_LENGTH + 1, 300])
def test_project_name_over_the_limit_fails(length: int) -> None:
    with pytest.raises(pre.AnswerError, match="must be at most 64 characters") as caught:
        pre.validate_project_name("A" * length)
    assert caught.value.field == "project_name"


def _default_slug(name: str) -> str:
    """The slug Cookiecutter derives from `name`, rendered as Cookiecutter renders it."""
    environment = StrictEnvironment(context={"cookiecutter": COOKIECUTTER_JSON})
    template = environment.from_string(COOKIECUTTER_JSON["project_slug"])
    return str(template.render(cookiecutter={"project_name": name}))


@pytest.mark.parametrize(
    ("project_name", "slug"),
    [
        ("Agent Service", "agent_service"),
        ("My-Agents", "my_agents"),
        ("My Bot!", "my_bot"),
        ("Émile Bot", "emile_bot"),
        ("Bob's Agents", "bobs_agents"),
        ("Bob\u2019s Agents", "bobs_agents"),
        ("  Straße -- Agents 2.0  ", "strasse_agents_2_0"),
        ("123 Bot", "project_123_bot"),
        ("42", "project_42"),
        ("_Private Bot_", "private_bot"),
        ("Starlette", "starlette_service"),
        ("App", "app_service"),
        ("Test", "test_service"),
        ("Class", "class_service"),
        ("Match", "match_service"),
        ("A" * pre.PROJECT_NAME_MAX_LENGTH, "a" * pre.SLUG_MAX_LENGTH),
        ("9" * pre.PROJECT_NAME_MAX_LENGTH, f"project_{'9' * 56}"),
        ("Über Ägent", "uber_agent"),
        ("Agents 🤖 Inc.", "agents_inc"),
    ],
)
def test_default_slug_follows_a_valid_name(project_name: str, slug: str) -> None:
    assert _default_slug(project_name) == slug
    assert derive_slug(project_name) == slug
    pre.validate_project_name(project_name)
    pre.validate_project_slug(slug)


@pytest.mark.parametrize(
    "project_name",
    ["Fastapi", "pydantic settings", "Python Jose", "IMPORT", "if", "Type", "_", "9 lives"],
)
def test_every_derived_slug_passes_the_hook(project_name: str) -> None:
    pre.validate_project_slug(derive_slug(project_name))


@pytest.mark.parametrize("project_name", ["", "   ", "!!!", "A" * 300])
def test_default_slug_of_a_refused_or_empty_name_still_names_a_folder(project_name: str) -> None:
    """Cookiecutter makes the folder before the hook runs, so the slug must still be valid.

    An empty or over-long slug would fail there, with a traceback instead of the hook's line.
    """
    slug = _default_slug(project_name)
    assert 0 < len(slug) <= pre.SLUG_MAX_LENGTH
    pre.validate_project_slug(slug)


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("project_name", 'The "Best"', "double quotes"),
        ("description", "C:\\path", "backslashes"),
        ("author_name", "two\nlines", "single line"),
    ],
)
def test_free_text_that_would_break_quoted_strings_fails(field: str, value: str, rule: str) -> None:
    with pytest.raises(pre.AnswerError, match=rule):
        pre.VALIDATORS[field](value)


def test_free_text_allows_apostrophes_and_unicode() -> None:
    pre.validate_project_name("Bob's Agents — Zoë")
    pre.validate_description("Agents & tools <fast>, 100% async.")


def test_error_line_format() -> None:
    error = pre.AnswerError("project_slug", "must be lowercase", "MyApp")
    assert error.line() == "ERROR: project_slug: must be lowercase (got 'MyApp')"


def test_error_line_stays_one_line() -> None:
    error = pre.AnswerError("author_name", "must be a single line", "a\nb")
    assert "\n" not in error.line()


def test_error_line_cuts_a_long_value() -> None:
    error = pre.AnswerError("project_name", "must be at most 64 characters", "A" * 300)
    shown = "A" * pre.SHOWN_VALUE_LENGTH
    assert error.line() == f"ERROR: project_name: must be at most 64 characters (got '{shown}...')"


def test_first_error_checks_fields_in_order() -> None:
    answers = {
        "project_name": "",
        "project_slug": "app",
        "author_email": "nope",
        "version": "x",
    }
    error = pre.first_error(answers)
    assert error is not None
    assert error.field == "project_name"
    answers["project_name"] = "Fine"
    assert pre.first_error(answers).field == "project_slug"


def test_first_error_none_for_defaults() -> None:
    answers = {
        "project_name": "Agent Service",
        "project_slug": "agent_service",
        "description": "A service.",
        "author_name": "Your Name",
        "author_email": "you@example.com",
        "version": "0.1.0",
    }
    assert pre.first_error(answers) is None


def test_all_errors_reports_every_bad_field_in_order() -> None:
    answers = {
        "project_name": "",
        "project_slug": "app",
        "description": "ok",
        "author_name": 'A "B"',
        "author_email": "nope",
        "version": "x",
    }
    errors = pre.all_errors(answers)
    assert [error.field for error in errors] == [
        "project_name",
        "project_slug",
        "author_name",
        "author_email",
        "version",
    ]


def test_main_prints_one_line_per_error_then_the_replay_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    answers = {
        "project_name": "X",
        "project_slug": "fastapi",
        "author_email": "nobody",
        "version": "0.1.0",
        "_repo_dir": "/home/me/.cookiecutters/kickstartmyai",
        "_template": "gh:acme/kickstartmyai",
    }
    code = pre.main(answers)
    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    rule = "must not shadow the project's own packages or a dependency"
    lines = captured.err.splitlines()
    assert lines[:2] == [
        f"ERROR: project_slug: {rule} (got 'fastapi')",
        "ERROR: author_email: must be an email address like you@example.com (got 'nobody')",
    ]
    assert lines[-1] == (
        "  cookiecutter --replay-file ~/.cookiecutter_replay/kickstartmyai.json"
        " gh:acme/kickstartmyai"
    )
    assert all(not line.startswith("ERROR") for line in lines[2:])


def _project_dir(output: Path) -> Path:
    project = output / "agent_service"
    project.mkdir(parents=True)
    return project


def test_empty_output_folder_is_a_leftover(tmp_path: Path) -> None:
    project = _project_dir(tmp_path / "out")
    assert pre.leaves_empty_output(project, start_dir=tmp_path)
    assert pre.leaves_empty_output(project, start_dir=None)


def test_output_folder_with_other_work_or_the_start_folder_is_kept(tmp_path: Path) -> None:
    project = _project_dir(tmp_path / "out")
    assert not pre.leaves_empty_output(project, start_dir=tmp_path / "out")
    (tmp_path / "out" / "notes.txt").write_text("mine")
    assert not pre.leaves_empty_output(project, start_dir=tmp_path)


def test_cleanup_waits_for_the_project_folder_then_removes_the_empty_output(
    tmp_path: Path,
) -> None:
    project = _project_dir(tmp_path / "out")
    pre.schedule_output_cleanup(project)
    assert (tmp_path / "out").is_dir()  # still there while the project folder is
    project.rmdir()
    wait_until(lambda: not (tmp_path / "out").exists(), timeout=30, message="output folder stays")
    assert tmp_path.is_dir()


def test_main_is_silent_on_success(capsys: pytest.CaptureFixture[str]) -> None:
    answers = {
        "project_name": "Agent Service",
        "project_slug": "agent_service",
        "author_email": "you@example.com",
        "version": "0.1.0",
    }
    assert pre.main(answers) == 0
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("hook", ["pre_gen_project", "post_gen_project"])
def test_jinja_lives_in_exactly_one_spot(hook: str) -> None:
    text = (HOOKS_DIR / f"{hook}.py").read_text(encoding="utf-8")
    assert text.count("{{") == 1
    assert "{%" not in text
    assert 'json.loads(r"""{{ cookiecutter | tojson }}""")' in text


# --- post_gen_project ----------------------------------------------------------------


def test_manifest_names_real_options() -> None:
    from tests.helpers import COOKIECUTTER_JSON

    assert set(post.MANIFEST) <= set(COOKIECUTTER_JSON)
    expected = {
        "use_redis",
        "use_openai",
        "use_anthropic",
        "use_gemini",
        "use_opentelemetry",
        "include_docker",
        "include_github_actions",
        "include_terraform",
        "include_kubernetes",
    }
    assert expected <= set(post.MANIFEST)


def test_manifest_paths_are_relative_and_owned_once() -> None:
    seen: list[str] = []
    for owned in post.MANIFEST.values():
        for path in owned.paths:
            assert not Path(path).is_absolute()
            assert ".." not in Path(path).parts
            seen.append(path)
    assert len(seen) == len(set(seen))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (True, True),
        (False, False),
        ("True", True),
        ("false", False),
        ("yes", True),
        ("n", False),
        (" ON ", True),
        ("0", False),
        ("sqlite", "sqlite"),
        (None, None),
    ],
)
def test_normalize(raw: object, expected: object) -> None:
    assert post.normalize(raw) == expected


def test_paths_to_prune_follows_the_keep_value() -> None:
    manifest = {
        "use_x": post.Owned(True, ("x.py", "tests/test_x.py")),
        "database": post.Owned("postgresql", ("pg.py",)),
        "use_y": post.Owned(True, ("y.py",)),
    }
    answers = {"use_x": "False", "database": "sqlite", "use_y": True}
    assert post.paths_to_prune(answers, manifest) == [
        "x.py",
        "tests/test_x.py",
        "pg.py",
    ]
    answers = {"use_x": True, "database": "postgresql", "use_y": "yes"}
    assert post.paths_to_prune(answers, manifest) == []


def test_prune_removes_files_folders_and_emptied_parents(tmp_path: Path) -> None:
    (tmp_path / "app/core").mkdir(parents=True)
    (tmp_path / "app/core/store.py").write_text("kept")
    (tmp_path / "app/core/store_redis.py").write_text("gone")
    (tmp_path / "tests/core").mkdir(parents=True)
    (tmp_path / "tests/conftest.py").write_text("kept")
    (tmp_path / "tests/core/test_store_redis.py").write_text("gone")
    (tmp_path / ".github/workflows").mkdir(parents=True)
    (tmp_path / ".github/workflows/ci.yml").write_text("gone")

    removed = post.prune(
        tmp_path,
        ["app/core/store_redis.py", "tests/core/test_store_redis.py", ".github"],
    )

    assert removed == [
        "app/core/store_redis.py",
        "tests/core/test_store_redis.py",
        ".github",
    ]
    assert (tmp_path / "app/core/store.py").read_text() == "kept"
    assert not (tmp_path / "app/core/store_redis.py").exists()
    assert not (tmp_path / "tests/core").exists()  # left empty, so removed
    assert (tmp_path / "tests/conftest.py").exists()
    assert not (tmp_path / ".github").exists()
    assert tmp_path.is_dir()


def _deploy_tree(root: Path) -> None:
    for relative in ("deploy/terraform/modules/network", "deploy/k8s/base"):
        (root / relative).mkdir(parents=True)
    (root / "deploy/terraform/modules/network/main.tf").write_text("")
    (root / "deploy/k8s/base/kustomization.yaml").write_text("")


@pytest.mark.parametrize(("terraform", "kubernetes"), [(True, False), (False, True), (True, True)])
def test_deploy_options_prune_only_their_own_folder(
    tmp_path: Path, terraform: bool, kubernetes: bool
) -> None:
    _deploy_tree(tmp_path)
    answers = {"include_terraform": terraform, "include_kubernetes": kubernetes}
    deploy = {"include_terraform", "include_kubernetes"}
    manifest = {key: owned for key, owned in post.MANIFEST.items() if key in deploy}
    post.prune(tmp_path, post.paths_to_prune(answers, manifest))
    assert (tmp_path / "deploy/terraform").is_dir() == terraform
    assert (tmp_path / "deploy/k8s").is_dir() == kubernetes


def test_deploy_folder_goes_when_both_deploy_options_are_off(tmp_path: Path) -> None:
    _deploy_tree(tmp_path)
    answers = {"include_terraform": "false", "include_kubernetes": "no"}
    doomed = post.paths_to_prune(answers, post.MANIFEST)
    assert {"deploy/terraform", "deploy/k8s"} <= set(doomed)
    post.prune(tmp_path, ["deploy/terraform", "deploy/k8s"])
    assert not (tmp_path / "deploy").exists()
    assert tmp_path.is_dir()


def test_prune_tolerates_missing_paths(tmp_path: Path) -> None:
    assert post.prune(tmp_path, ["not/there.py", "nor/this"]) == []
    assert tmp_path.is_dir()


def test_prune_removes_chains_of_emptied_folders_but_never_the_root(
    tmp_path: Path,
) -> None:
    root = tmp_path / "project"
    (root / "a/b/c").mkdir(parents=True)
    (root / "a/b/c/only.py").write_text("x")
    post.prune(root, ["a/b/c/only.py"])
    assert not (root / "a").exists()
    assert root.is_dir()


def test_prune_keeps_a_parent_that_still_has_files(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg/a.py").write_text("a")
    (tmp_path / "pkg/b.py").write_text("b")
    post.prune(tmp_path, ["pkg/a.py"])
    assert (tmp_path / "pkg/b.py").exists()


def _git_env(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """No user or system git configuration, so the answers supply the identity."""
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("AUTHOR", "COMMITTER"):
        monkeypatch.delenv(f"GIT_{name}_NAME", raising=False)
        monkeypatch.delenv(f"GIT_{name}_EMAIL", raising=False)


def _git_out(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=True, timeout=60
    ).stdout


def test_git_init_commits_every_file_as_the_author(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _git_env(monkeypatch, tmp_path)
    project = tmp_path / "bots"
    (project / "app").mkdir(parents=True)
    (project / "app/main.py").write_text("app = None\n")
    (project / ".gitignore").write_text(".venv/\n")
    (project / ".venv").mkdir()
    (project / ".venv/junk").write_text("x")
    answers = {"author_name": "Zoë O'Brien", "author_email": "zoe@example.com"}

    line = post.git_init(project, answers)

    assert line.startswith("Initialized a git repository")
    assert _git_out(project, "log", "--format=%an <%ae>|%s") == (
        "Zoë O'Brien <zoe@example.com>|Initial commit\n"
    )
    assert _git_out(project, "ls-files").splitlines() == [".gitignore", "app/main.py"]


def test_git_init_keeps_the_users_own_identity(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _git_env(monkeypatch, tmp_path)
    config = tmp_path / "gitconfig"
    config.write_text("[user]\n\tname = Real Me\n\temail = me@example.org\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    (tmp_path / "p").mkdir()
    (tmp_path / "p/a.txt").write_text("a")
    post.git_init(tmp_path / "p", {"author_name": "Other", "author_email": "o@example.com"})
    assert _git_out(tmp_path / "p", "log", "--format=%an <%ae>") == "Real Me <me@example.org>\n"


def test_a_cruft_render_makes_no_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Cruft renders again on each update; a .git there would break the diff it applies."""
    _git_env(monkeypatch, tmp_path)
    (tmp_path / "p").mkdir()
    (tmp_path / "p/a.txt").write_text("a")
    answers = {"git_init": True, "_commit": "0" * 40, "project_slug": "p"}

    assert post.main(answers, tmp_path / "p") == 0

    assert not (tmp_path / "p/.git").exists()
    assert post.CRUFT_MANAGED in capsys.readouterr().out


def test_git_init_failure_is_reported_not_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A commit git refuses (here: an empty project) leaves the files and says what to do."""
    _git_env(monkeypatch, tmp_path)
    (tmp_path / "empty").mkdir()
    line = post.git_init(tmp_path / "empty", {"author_name": "A", "author_email": "a@b.co"})
    assert line.startswith("git commit failed (")
    assert line.endswith("commit the files yourself.")


def test_git_init_leaves_an_existing_repository_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rendering again with `-f` over a project keeps its history: no second first commit."""
    _git_env(monkeypatch, tmp_path)
    (tmp_path / "p").mkdir()
    (tmp_path / "p/a.txt").write_text("a")
    answers = {"author_name": "A", "author_email": "a@example.com"}
    post.git_init(tmp_path / "p", answers)
    (tmp_path / "p/a.txt").write_text("changed")
    line = post.git_init(tmp_path / "p", answers)
    assert line.startswith("Rendered over an existing git repository")
    assert _git_out(tmp_path / "p", "log", "--format=%s") == "Initial commit\n"
    assert _git_out(tmp_path / "p", "status", "--porcelain") == " M a.txt\n"


def test_git_init_without_git_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    line = post.git_init(tmp_path, {})
    assert "git was not found" in line
    assert not (tmp_path / ".git").exists()


def test_next_steps_mention_the_commands() -> None:
    text = post.next_steps({"project_slug": "bots", "project_name": "Bots"}, Path("/x/bots"))
    for expected in (
        "cd bots",
        "make install",
        "make dev",
        "http://localhost:8000/docs",
        "http://localhost:8000/playground/",
    ):
        assert expected in text


def test_post_main_prunes_and_prints(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "Dockerfile").write_text("FROM python")
    (tmp_path / "app/ai/providers").mkdir(parents=True)
    (tmp_path / "app/ai/providers/gemini.py").write_text("")
    (tmp_path / "app/ai/providers/base.py").write_text("")
    answers = {
        "project_slug": tmp_path.name,
        "include_docker": False,
        "use_gemini": False,
        "use_redis": True,
        "use_openai": True,
        "use_anthropic": True,
        "include_github_actions": True,
    }
    answers["git_init"] = "false"
    assert post.main(answers, tmp_path) == 0
    assert not (tmp_path / ".git").exists()
    assert not (tmp_path / "Dockerfile").exists()
    assert not (tmp_path / "app/ai/providers/gemini.py").exists()
    assert (tmp_path / "app/ai/providers/base.py").exists()
    assert "make dev" in capsys.readouterr().out
