"""Layer 1: every supported combination renders cleanly; every bad answer is refused.

Fast (no installs): each configuration renders once per session and the checks below
read the files. Lint runs ruff with the generated project's own configuration.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from cookiecutter.exceptions import FailedHookException

from tests.conftest import Bake
from tests.helpers import (
    DECLARATION_FILES,
    DECLARED_NAME_PATTERNS,
    LEFTOVER_PATTERNS,
    PROJECT_TEMPLATE,
    SQLITE_LEFTOVER_FILES,
    SQLITE_LEFTOVER_PATTERNS,
    SUPPORTED,
    TEMPLATE_DIR,
    UNSUPPORTED,
    env_example_keys,
    leftover_template_syntax,
    load_hook,
    makefile_targets,
    references,
    settings_fields,
    text_files,
)
from tests.processes import GIT_ISOLATED, clean_env, ruff_check, ruff_format_check, wait_until

post = load_hook("post_gen_project")

CONFIG_IDS = list(SUPPORTED)


@pytest.fixture(params=CONFIG_IDS)
def config_id(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def project(baked: Bake, config_id: str) -> Path:
    return baked(config_id)


def _on(answers: dict[str, Any], option: str) -> bool:
    return post.normalize(answers[option]) is True


# --- rendering -------------------------------------------------------------------------


def test_renders_into_the_slug_folder(project: Path, answers: dict[str, Any]) -> None:
    assert project.name == answers["project_slug"]
    assert (project / "pyproject.toml").is_file()


def test_no_leftover_template_syntax(project: Path) -> None:
    hits = leftover_template_syntax(project)
    assert not hits, "\n".join(["", *hits])


def test_no_empty_folders(project: Path) -> None:
    empty = [
        str(path.relative_to(project))
        for path in project.rglob("*")
        if path.is_dir() and not any(path.iterdir()) and ".git" not in path.parts
    ]
    assert empty == []


def _git(project: Path, *args: str) -> str:
    completed = subprocess.run(
        ["git", *args], cwd=project, capture_output=True, text=True, timeout=60, check=True
    )
    return completed.stdout


def test_render_is_a_git_repository_with_every_file_committed(project: Path) -> None:
    assert _git(project, "log", "--format=%s") == "Initial commit\n"
    tracked = set(_git(project, "ls-files").splitlines())
    rendered = {str(path.relative_to(project)) for path in text_files(project)}
    assert rendered <= tracked
    assert {"pyproject.toml", "app/main.py", ".gitignore"} <= tracked
    assert _git(project, "status", "--porcelain", "--untracked-files=no") == ""


def test_pruned_paths_are_gone_and_kept_paths_stay(project: Path, answers: dict[str, Any]) -> None:
    doomed = set(post.paths_to_prune(answers, post.MANIFEST))
    for owned in post.MANIFEST.values():
        for relative in owned.paths:
            # A path inside another option's pruned folder goes with it.
            inside_doomed = any(str(parent) in doomed for parent in Path(relative).parents)
            if relative in doomed or inside_doomed:
                assert not (project / relative).exists(), f"{relative} should be pruned"
            elif (PROJECT_TEMPLATE / relative).exists():
                assert (project / relative).exists(), f"{relative} should be kept"


def test_pruned_options_leave_no_reference(project: Path, answers: dict[str, Any]) -> None:
    hits = []
    for option, patterns in LEFTOVER_PATTERNS.items():
        if not _on(answers, option):
            hits += [f"[{option} off] {hit}" for hit in references(project, patterns)]
    for option, patterns in DECLARED_NAME_PATTERNS.items():
        if not _on(answers, option):
            found = references(project, patterns, DECLARATION_FILES)
            hits += [f"[{option} off] {hit}" for hit in found]
    if answers["database"] == "sqlite":
        only = SQLITE_LEFTOVER_FILES
        hits += [f"[sqlite] {hit}" for hit in references(project, SQLITE_LEFTOVER_PATTERNS, only)]
    assert not hits, "\n".join(["", *hits])


def test_chosen_options_are_wired(project: Path, answers: dict[str, Any]) -> None:
    """The counterpart of the test above: what was chosen is really there."""
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    names = {
        re.split(r"[\[<>=!~; ]", dep, maxsplit=1)[0].lower()
        for dep in pyproject["project"]["dependencies"]
    }
    dependencies = {
        "use_redis": "redis",
        "use_openai": "openai",
        "use_anthropic": "anthropic",
        "use_gemini": "google-genai",
        "use_opentelemetry": "opentelemetry-sdk",
    }
    for option, name in dependencies.items():
        assert (name in names) == _on(answers, option), option
    # Every project tests its OpenAI-compatible endpoint with the official SDK.
    dev = {
        re.split(r"[\[<>=!~; ]", dep, maxsplit=1)[0].lower()
        for dep in pyproject["project"]["optional-dependencies"]["dev"]
    }
    assert "openai" in names | dev
    assert ("asyncpg" in names) == (answers["database"] == "postgresql")
    config = (project / "app/core/config.py").read_text(encoding="utf-8")
    settings = {
        "use_redis": "redis_url:",
        "use_openai": "openai_api_key:",
        "use_anthropic": "anthropic_api_key:",
        "use_gemini": "gemini_api_key:",
        "use_opentelemetry": "otel_exporter_otlp_endpoint:",
    }
    for option, field_name in settings.items():
        assert (field_name in config) == _on(answers, option), option


def test_every_python_file_compiles(project: Path) -> None:
    failures = []
    for path in text_files(project):
        if path.suffix == ".py":
            try:
                compile(
                    path.read_text(encoding="utf-8"),
                    str(path),
                    "exec",
                    dont_inherit=True,
                )
            except SyntaxError as error:
                failures.append(f"{path.relative_to(project)}: {error}")
    assert not failures, "\n".join(["", *failures])


def test_ruff_check(project: Path) -> None:
    outcome = ruff_check(project)
    assert outcome.ok, outcome.tail()


def test_ruff_format(project: Path) -> None:
    outcome = ruff_format_check(project)
    assert outcome.ok, outcome.tail()


def test_pyproject_metadata(project: Path, answers: dict[str, Any]) -> None:
    data = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    meta = data["project"]
    assert meta["name"] == answers["project_slug"]
    assert meta["version"] == answers["version"]
    assert meta["description"] == answers["description"]
    assert meta["requires-python"] == f">={answers['python_version']}"
    assert meta["authors"] == [{"name": answers["author_name"], "email": answers["author_email"]}]


def test_env_example_documents_every_setting(project: Path) -> None:
    fields = settings_fields(project / "app/core/config.py")
    documented = env_example_keys(project / ".env.example")
    assert sorted(set(fields) - documented) == [], "settings missing from .env.example"
    assert sorted(documented - set(fields)) == [], ".env.example names unknown settings"


def test_makefile_targets(project: Path, answers: dict[str, Any]) -> None:
    targets = makefile_targets(project / "Makefile")
    required = {
        "install",
        "dev",
        "test",
        "lint",
        "fmt",
        "typecheck",
        "migrate",
        "revision",
    }
    assert required | {"db-init", "createadmin", "seed"} <= targets
    assert ({"up", "down"} <= targets) == _on(answers, "include_docker")
    assert not ({"up", "down"} & targets) or _on(answers, "include_docker")


def test_typecheck_holds_tests_and_scripts_to_strict_mypy(project: Path) -> None:
    """`make typecheck` runs bare mypy, so pyproject's `files` decide what is checked."""
    mypy = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert mypy["strict"] is True
    assert set(mypy["files"]) == {"app", "tests", "scripts", "alembic"}
    makefile = (project / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^typecheck:.*\n\t(.*)$", makefile, re.MULTILINE)
    assert recipe is not None
    assert recipe.group(1) == "$(BIN)/mypy"


def test_makefile_serves_the_app_factory(project: Path) -> None:
    makefile = (project / "Makefile").read_text(encoding="utf-8")
    main = (project / "app/main.py").read_text(encoding="utf-8")
    has_module_app = re.search(r"^app\s*(:[^=]+)?=", main, re.MULTILINE) is not None
    if has_module_app:
        assert "app.main:app" in makefile
    else:
        assert "--factory app.main:create_app" in makefile
    assert "PORT ?= 8000" in makefile
    assert "--port $(PORT)" in makefile


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_help_shows_the_real_port(project: Path) -> None:
    completed = subprocess.run(
        ["make", "--no-print-directory", "help", "PORT=8123"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "http://localhost:8123" in completed.stdout
    assert "$(PORT)" not in completed.stdout
    assert re.search(r"^  seed +", completed.stdout, re.MULTILINE)


def test_readme_repeats_no_line(project: Path, answers: dict[str, Any]) -> None:
    """Prose and table rows appear once (code, fences and separators may repeat)."""
    lines = (project / "README.md").read_text(encoding="utf-8").splitlines()
    prose: list[str] = []
    in_code = False
    for line in lines:
        if line.strip().startswith("```"):
            in_code = not in_code
            continue
        if not in_code and line.strip() and not re.fullmatch(r"[|\-\s]+", line):
            prose.append(line.strip())
    repeated = sorted({line for line in prose if prose.count(line) > 1})
    assert repeated == []
    description = str(answers["description"])
    first_words = " ".join(description.split()[:5])
    assert sum(line.startswith(first_words) for line in prose) <= 1


def test_license(project: Path, answers: dict[str, Any]) -> None:
    text = (project / "LICENSE").read_text(encoding="utf-8")
    first_line = {
        "MIT": "MIT License",
        "Apache-2.0": "Apache License",
        "BSD-3-Clause": "BSD 3-Clause License",
        "Proprietary": "All rights reserved",
    }[answers["license"]]
    assert first_line in text
    assert answers["author_name"] in text
    if answers["license"] == "Proprietary":
        assert "Permission is hereby granted" not in text


def test_python_version_is_used_everywhere(project: Path, answers: dict[str, Any]) -> None:
    version = answers["python_version"]
    pyproject = (project / "pyproject.toml").read_text(encoding="utf-8")
    assert f'target-version = "py{version.replace(".", "")}"' in pyproject
    assert f'python_version = "{version}"' in pyproject
    if _on(answers, "include_docker"):
        dockerfile = (project / "Dockerfile").read_text(encoding="utf-8")
        assert f"python:{version}-slim" in dockerfile
    if _on(answers, "include_github_actions"):
        workflow = yaml.safe_load((project / ".github/workflows/ci.yml").read_text())
        assert f"{version}" in str(workflow)


def test_dockerfile(project: Path, answers: dict[str, Any]) -> None:
    if not _on(answers, "include_docker"):
        pytest.skip("include_docker is off")
    text = (project / "Dockerfile").read_text(encoding="utf-8")
    assert len(re.findall(r"^FROM ", text, re.MULTILINE)) >= 2, "multi-stage build"
    assert re.search(r"^USER (?!root)\S+", text, re.MULTILINE), "runs as a non-root user"
    assert re.search(r"^HEALTHCHECK .*?/health", text, re.MULTILINE | re.DOTALL)
    # Forwarded headers are the app's to judge (TRUSTED_PROXIES), never believed from anyone.
    assert "forwarded-allow-ips" not in text
    assert '"--no-proxy-headers"' in text


def test_compose_services(project: Path, answers: dict[str, Any]) -> None:
    if not _on(answers, "include_docker"):
        pytest.skip("include_docker is off")
    compose = yaml.safe_load((project / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    expected = {"app"}
    if answers["database"] == "postgresql":
        expected.add("postgres")
    if _on(answers, "use_redis"):
        expected |= {"redis", "worker"}
    assert set(services) == expected
    for name, service in services.items():
        assert "healthcheck" in service, f"{name} has no healthcheck"
    environment = services["app"].get("environment", {})
    assert ("DATABASE_URL" in environment) == (answers["database"] == "postgresql")
    assert ("REDIS_URL" in environment) == _on(answers, "use_redis")
    assert set(services["app"].get("depends_on", {})) == expected - {"app", "worker"}
    if "worker" in services:
        # Runs go to the worker service, which shares the app's settings and data.
        assert environment["RUN_ROLE"] == "${RUN_ROLE:-api}"
        assert services["worker"]["environment"]["SECRET_KEY"] == environment["SECRET_KEY"]
        assert services["worker"]["command"][:3] == ["python", "-m", "app.worker"]
    # Safe by default: no placeholder key, no development mode, stores on loopback only.
    assert environment["SECRET_KEY"].startswith("${SECRET_KEY:?")
    assert environment["ENVIRONMENT"] == "${ENVIRONMENT:-production}"
    for name in expected - {"app"}:
        for port in services[name].get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} is published on all interfaces"
    if _on(answers, "use_redis"):
        assert "--requirepass" in str(services["redis"]["command"])
        assert environment["REDIS_URL"].startswith("redis://:${REDIS_PASSWORD:?")
    if answers["database"] == "postgresql":
        assert "${POSTGRES_PASSWORD:?" in services["postgres"]["environment"]["POSTGRES_PASSWORD"]


def test_generated_ci_workflow(project: Path, answers: dict[str, Any]) -> None:
    if not _on(answers, "include_github_actions"):
        pytest.skip("include_github_actions is off")
    workflow = yaml.safe_load((project / ".github/workflows/ci.yml").read_text(encoding="utf-8"))
    jobs = workflow["jobs"]
    assert {"lint", "typecheck", "test"} <= set(jobs)
    steps = str(jobs["lint"]["steps"])
    assert "ruff check" in steps
    assert "ruff format --check" in steps
    assert "mypy" in str(jobs["typecheck"]["steps"])
    test_job = jobs["test"]
    services = set(test_job.get("services", {}))
    env = test_job.get("env", {})
    assert ("postgres" in services) == (answers["database"] == "postgresql")
    assert ("TEST_DATABASE_URL" in env) == (answers["database"] == "postgresql")
    assert ("redis" in services) == _on(answers, "use_redis")
    assert ("TEST_REDIS_URL" in env) == _on(answers, "use_redis")


def test_readme_and_agents_guide(project: Path, answers: dict[str, Any]) -> None:
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert readme.startswith(f"# {answers['project_name']}")
    for command in ("make install", "make dev", "make test", "/docs"):
        assert command in readme
    guide = (project / "AGENTS.md").read_text(encoding="utf-8")
    for heading in ("agent", "workflow", "tool", "provider", "entity"):
        assert re.search(rf"^##+ .*\b{heading}", guide, re.MULTILINE | re.IGNORECASE), heading
    second_server = "## Add a second OpenAI-compatible server" in guide
    assert second_server == _on(answers, "use_openai")


def test_gitignore_keeps_local_state_out(project: Path) -> None:
    ignored = (project / ".gitignore").read_text(encoding="utf-8").splitlines()
    for entry in (".venv/", ".env", "data/", "__pycache__/"):
        assert entry in ignored


# --- bad answers -------------------------------------------------------------------------


@pytest.mark.parametrize(("field", "extra"), UNSUPPORTED.values(), ids=list(UNSUPPORTED))
def test_bad_answer_is_refused_and_nothing_written(
    cookies: Any,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    field: str,
    extra: dict[str, Any],
) -> None:
    result = cookies.bake(extra_context=extra, template=str(TEMPLATE_DIR))
    _, err = capfd.readouterr()

    assert isinstance(result.exception, FailedHookException)
    assert result.exit_code != 0
    hook_lines = [line for line in err.splitlines() if line.startswith(f"ERROR: {field}: ")]
    assert len(hook_lines) == 1, err
    assert re.fullmatch(rf"ERROR: {field}: .+ \(got '.*'\)", hook_lines[0])
    # The hook's watcher removes the output folder Cookiecutter left empty.
    cookies = tmp_path / "cookies"
    wait_until(lambda: not any(cookies.glob("bake*")), timeout=30, message="output folder stays")
    assert not any(path.is_file() for path in cookies.rglob("*"))


def _cookiecutter_cli(
    out: Path, *args: str, home: Path, no_input: bool = True
) -> subprocess.CompletedProcess[str]:
    """The real command line, with its replay folder under `home`."""
    flags = ["--no-input"] if no_input else []
    return subprocess.run(
        [sys.executable, "-m", "cookiecutter", *flags, "-o", str(out), *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
        cwd=TEMPLATE_DIR,
        env={**clean_env(HOME=str(home)), **GIT_ISOLATED},
    )


def _wait_gone(path: Path) -> None:
    wait_until(lambda: not path.exists(), timeout=30, message=f"{path} is still there")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("project_slug=app", "ERROR: project_slug: must not shadow"),
        ("author_email=nobody", "ERROR: author_email: must be an email address"),
        ("project_name=", "ERROR: project_name: must not be empty (got '')"),
        (
            f"project_name={'A' * 300}",
            f"ERROR: project_name: must be at most 64 characters (got '{'A' * 80}...')",
        ),
    ],
    ids=["reserved_slug", "bad_email", "empty_name", "name_300_characters"],
)
def test_cli_exits_1_with_one_line(tmp_path: Path, answer: str, expected: str) -> None:
    """Through the real command line: exit status 1, the hook's line, no output folder."""
    out = tmp_path / "out"
    completed = _cookiecutter_cli(out, str(TEMPLATE_DIR), answer, home=tmp_path)
    assert completed.returncode == 1
    errors = [line for line in completed.stderr.splitlines() if line.startswith("ERROR: ")]
    hook_errors = [line for line in errors if not line.startswith("ERROR: Stopping")]
    assert len(hook_errors) == 1, completed.stderr
    assert hook_errors[0].startswith(expected)
    _wait_gone(out)


def test_cli_reports_every_bad_answer_and_how_to_retry(tmp_path: Path) -> None:
    """Three bad answers give three lines in field order, then the --replay-file command.

    The saved answers, fixed, render without retyping.
    """
    out = tmp_path / "deep" / "out"
    completed = _cookiecutter_cli(
        out,
        str(TEMPLATE_DIR),
        "project_slug=my-bot",
        "author_email=nobody",
        "version=latest",
        home=tmp_path,
    )
    assert completed.returncode == 1
    lines = completed.stderr.splitlines()
    hook_errors = [line for line in lines if re.match(r"ERROR: \w+: ", line)]
    assert [line.split(":")[1].strip() for line in hook_errors] == [
        "project_slug",
        "author_email",
        "version",
    ]
    replay = next(line for line in lines if "cookiecutter --replay-file" in line)
    saved_name = f"{TEMPLATE_DIR.name}.json"
    assert f"~/.cookiecutter_replay/{saved_name}" in replay
    _wait_gone(out)
    assert (tmp_path / "deep").is_dir()  # only the folder Cookiecutter left empty goes

    saved = tmp_path / ".cookiecutter_replay" / saved_name
    context = json.loads(saved.read_text(encoding="utf-8"))
    context["cookiecutter"].update(
        project_slug="my_bot", author_email="me@example.com", version="0.1.0", git_init=False
    )
    saved.write_text(json.dumps(context), encoding="utf-8")
    retried = _cookiecutter_cli(
        out, "--replay-file", str(saved), str(TEMPLATE_DIR), home=tmp_path, no_input=False
    )
    assert retried.returncode == 0, retried.stderr
    assert (out / "my_bot" / "pyproject.toml").is_file()
    assert not (out / "my_bot" / ".git").exists()


def test_cli_keeps_an_output_folder_that_holds_other_work(tmp_path: Path) -> None:
    out = tmp_path / "projects"
    (out / "other").mkdir(parents=True)
    completed = _cookiecutter_cli(out, str(TEMPLATE_DIR), "version=latest", home=tmp_path)
    assert completed.returncode == 1
    wait_until(
        lambda: not (out / "agent_service").exists(), timeout=30, message="project folder stays"
    )
    assert sorted(p.name for p in out.iterdir()) == ["other"]


@pytest.mark.parametrize(
    ("project_name", "slug"),
    [("My Bot!", "my_bot"), ("Émile Bot", "emile_bot"), ("Starlette", "starlette_service")],
)
def test_cli_derives_a_valid_slug_from_the_name(
    tmp_path: Path, project_name: str, slug: str
) -> None:
    out = tmp_path / "out"
    completed = _cookiecutter_cli(
        out, str(TEMPLATE_DIR), f"project_name={project_name}", "git_init=false", home=tmp_path
    )
    assert completed.returncode == 0, completed.stderr
    assert (out / slug / "app" / "main.py").is_file()


def test_readme_quick_start_renders_twice_keeping_local_state(tmp_path: Path) -> None:
    """The README's cookiecutter step, run twice in a row, keeps local state.

    The second run overwrites the template's files and keeps the database, the venv and
    the git history.
    """
    readme = (TEMPLATE_DIR / "README.md").read_text(encoding="utf-8")
    block = re.search(r"^## Quick start\n.*?```bash\n(.*?)\n```", readme, re.MULTILINE | re.DOTALL)
    assert block is not None
    step = next(part for part in block.group(1).split("&&") if "cookiecutter --" in part)
    args = [str(TEMPLATE_DIR) if arg == "." else arg for arg in shlex.split(step)[1:]]
    project = tmp_path / ".render" / "agent_service"

    def quick_start() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cookiecutter", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=120,
            check=False,
            env={**clean_env(HOME=str(tmp_path)), **GIT_ISOLATED},
        )

    assert quick_start().returncode == 0
    (project / "data").mkdir()
    (project / "data" / "app.db").write_bytes(b"users and agents")
    (project / "app" / "main.py").write_text("edited", encoding="utf-8")
    second = quick_start()

    assert second.returncode == 0, second.stderr
    assert "Rendered over an existing git repository" in second.stdout
    assert (project / "data" / "app.db").read_bytes() == b"users and agents"
    assert (project / "app" / "main.py").read_text(encoding="utf-8") != "edited"
    assert _git(project, "log", "--format=%s") == "Initial commit\n"
