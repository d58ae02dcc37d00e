"""Layer 2: generated projects run their own suites, through their own Makefile.

One configuration installs from its own pyproject.toml into a fresh venv (`make install`)
and also runs `make lint` and `make typecheck` there. The others reuse the venv running
these tests, which requirements-dev.txt fills with every generated dependency, by
pointing the Makefile at it (`make test VENV=...`). Each command runs in a subprocess
from the generated project's folder.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import sys
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.databases import server_with_pgvector
from tests.helpers import PYTHON_VERSIONS, RUNNING_PYTHON, SUITES, TEMPLATE_DIR, SuiteConfig
from tests.processes import (
    Outcome,
    Server,
    clean_env,
    free_port,
    pytest_counts,
    run,
    serving,
    start_server,
)

pytestmark = pytest.mark.slow

SUITE_TIMEOUT = float(os.environ.get("KICKSTART_SUITE_TIMEOUT", "1200"))
INSTALL_TIMEOUT = float(os.environ.get("KICKSTART_INSTALL_TIMEOUT", "900"))
SHARED_VENV = Path(sys.prefix)


LAYER2 = SUITES


def _marks(name: str) -> tuple[pytest.MarkDecorator, ...]:
    # One worker renders and installs a configuration; its tests all run there.
    group = pytest.mark.xdist_group(f"layer2-{name}")
    return (group, pytest.mark.postgres) if SUITES[name].services else (group,)


def _params(names: list[str] | None = None) -> list[Any]:
    return [pytest.param(name, marks=_marks(name), id=name) for name in names or list(LAYER2)]


FRESH = [name for name, config in LAYER2.items() if config.fresh_venv]


@pytest.fixture(scope="session", autouse=True)
def _layer2_prerequisites() -> None:
    if RUNNING_PYTHON not in PYTHON_VERSIONS:
        pytest.skip(f"Python {RUNNING_PYTHON} is not one of the template's {PYTHON_VERSIONS}")
    if shutil.which("make") is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("make is not installed")
        pytest.skip("make is not installed")


@dataclass
class Prepared:
    """A rendered project and the venv (its own or the shared one) that runs it."""

    name: str
    path: Path
    venv: Path
    install: Outcome | None = None

    def make(self, *targets: str, env: dict[str, str] | None = None, **variables: str) -> Outcome:
        """`make TARGET... VAR=value` in the project, against this venv."""
        args = ["make", "--no-print-directory", *targets, f"VENV={self.venv}"]
        args += [f"{key}={value}" for key, value in variables.items()]
        timeout = SUITE_TIMEOUT if "test" in targets else 300
        return run(args, self.path, env=env or clean_env(), timeout=timeout)

    @property
    def python(self) -> str:
        return str(self.venv / "bin" / "python")


@pytest.fixture(scope="session")
def prepared(
    render: Callable[[str, dict[str, Any]], Path],
) -> Callable[[str], Prepared]:
    """Render a LAYER2 configuration for the running Python and get its venv ready."""
    cache: dict[str, Prepared] = {}

    def prepare(name: str) -> Prepared:
        if name not in cache:
            config = LAYER2[name]
            path = render(f"layer2-{name}", {**config.extra, "python_version": RUNNING_PYTHON})
            if config.fresh_venv:
                item = Prepared(name, path, path / ".venv")
                item.install = run(
                    [
                        "make",
                        "--no-print-directory",
                        "install",
                        f"PYTHON={sys.executable}",
                        "UV=",  # the pip path; test_tooling.py covers uv
                    ],
                    path,
                    env=clean_env(PIP_NO_INPUT="1", PIP_DISABLE_PIP_VERSION_CHECK="1"),
                    timeout=INSTALL_TIMEOUT,
                )
            else:
                item = Prepared(name, path, SHARED_VENV)
            cache[name] = item
        item = cache[name]
        if item.install is not None and not item.install.ok:
            pytest.fail(f"make install failed for {name}:\n{item.install.tail(40)}")
        return item

    return prepare


def _suite_env(request: pytest.FixtureRequest, config: SuiteConfig) -> dict[str, str]:
    if not config.services:
        return clean_env()
    urls: dict[str, str] = dict(request.getfixturevalue("service_urls"))
    if config.redis_index is not None:
        url = urlsplit(urls["TEST_REDIS_URL"])
        urls["TEST_REDIS_URL"] = url._replace(path=f"/{config.redis_index}").geturl()
    return clean_env(**urls)


def _assert_suite_passed(name: str, outcome: Outcome) -> None:
    counts = pytest_counts(outcome.output)
    summary = f"{name}: {counts or 'no summary'} in {outcome.seconds:.0f}s"
    assert outcome.ok, f"{summary}\n{outcome.tail(80)}"
    assert counts.get("passed", 0) > 0, f"{summary}: no test ran\n{outcome.tail(20)}"
    assert counts.get("failed", 0) == 0, summary
    assert counts.get("error", 0) == 0, summary


def _assert_collected(name: str, outcome: Outcome) -> None:
    """Every test module of the project imports: none refers to a file the hooks pruned."""
    assert outcome.ok, f"{name}: collection failed\n{outcome.tail(40)}"
    assert re.search(r"\d+ tests? collected", outcome.output), outcome.tail(20)
    assert "error" not in outcome.output.splitlines()[-1].lower(), outcome.tail(20)


# --- the suites ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", _params())
def test_generated_suite_passes(
    prepared: Callable[[str], Prepared], request: pytest.FixtureRequest, name: str
) -> None:
    project = prepared(name)
    env = _suite_env(request, LAYER2[name])
    coverage = {} if LAYER2[name].coverage else {"COVERAGE": ""}
    args = "-q -p no:cacheprovider -p no:cookies"
    if LAYER2[name].marks:
        args += f" -m '{LAYER2[name].marks}'"
    args += "".join(f" --ignore={path}" for path in LAYER2[name].ignore)
    if LAYER2[name].paths:
        collected = project.make("test", env=env, ARGS=f"{args} --collect-only", COVERAGE="")
        _assert_collected(name, collected)
        args += " " + " ".join(LAYER2[name].paths)
    outcome = project.make("test", env=env, ARGS=args, **coverage)
    _assert_suite_passed(name, outcome)
    if LAYER2[name].extra.get("database") == "sqlite":
        # A SQLite-only project leaves its PostgreSQL tests out instead of skipping each.
        postgres_skips = [
            line
            for line in outcome.output.splitlines()
            if "SKIPPED" in line and "PostgreSQL" in line
        ]
        assert postgres_skips == []
    if LAYER2[name].coverage:
        assert re.search(r"^TOTAL\s.*\s\d+%$", outcome.output, re.MULTILINE), (
            "make test printed no coverage report"
        )


@pytest.mark.parametrize("name", _params(FRESH))
def test_fresh_venv_has_only_declared_dependencies(
    prepared: Callable[[str], Prepared], name: str
) -> None:
    """The fresh venv came from the project's own pyproject.toml, not from this one."""
    project = prepared(name)
    assert Path(project.python).exists()
    outcome = run(
        [
            project.python,
            "-c",
            "import app, sys; print(app.__file__); print(sys.prefix)",
        ],
        project.path,
        env=clean_env(),
        timeout=60,
    )
    assert outcome.ok, outcome.output
    module_file, prefix = outcome.output.split()
    assert Path(module_file).is_relative_to(project.path)
    assert Path(prefix).resolve() == project.venv.resolve()


@pytest.mark.parametrize("name", _params(FRESH))
def test_make_lint_in_fresh_venv(prepared: Callable[[str], Prepared], name: str) -> None:
    outcome = prepared(name).make("lint")
    assert outcome.ok, outcome.tail()


@pytest.mark.parametrize("name", _params(FRESH))
def test_make_typecheck_in_fresh_venv(prepared: Callable[[str], Prepared], name: str) -> None:
    outcome = prepared(name).make("typecheck")
    assert outcome.ok, outcome.tail()


# --- configuration and database commands -----------------------------------------------------

LOAD_ENV_EXAMPLE = """
import json, re, sys
from pathlib import Path
from app.core.config import Settings

pattern = re.compile(r"^#? ?([A-Z][A-Z0-9_]*)=(.*)$")
first = {}
for line in Path(".env.example").read_text().splitlines():
    match = pattern.match(line)
    if match and match.group(1) not in first:
        first[match.group(1)] = match.group(2)
Path(sys.argv[1]).write_text("".join(f"{k}={v}\\n" for k, v in first.items()))
loaded = Settings(_env_file=sys.argv[1])
default = Settings(_env_file=None)
print(json.dumps({
    "keys": sorted(k.lower() for k in first),
    "differs": sorted(
        k.lower() for k in first
        if getattr(loaded, k.lower()) != getattr(default, k.lower())
    ),
}))
"""

# Examples whose documented value is deliberately not the default.
NOT_DEFAULTS = {"database_url", "tools_sandbox_dir", "secret_key"}


@pytest.mark.parametrize("name", _params(["default", "minimal"]))
def test_env_example_values_load_and_match_the_defaults(
    prepared: Callable[[str], Prepared], tmp_path: Path, name: str
) -> None:
    """Uncommenting .env.example's first example of each setting gives the built-in defaults.

    So the file documents the real values, and every example is a valid config.
    """
    project = prepared(name)
    env = clean_env()
    env = {k: v for k, v in env.items() if k.upper() not in _setting_names(project.path)}
    outcome = run(
        [project.python, "-c", LOAD_ENV_EXAMPLE, str(tmp_path / "example.env")],
        project.path,
        env=env,
        timeout=60,
    )
    assert outcome.ok, outcome.tail()
    report = json.loads(outcome.output.strip().splitlines()[-1])
    differs = {
        key
        for key in report["differs"]
        if key not in NOT_DEFAULTS and not key.endswith(("_api_key", "_base_url"))
    }
    assert differs == set(), f".env.example shows values that are not the defaults: {differs}"


def _setting_names(project: Path) -> set[str]:
    from tests.helpers import settings_fields

    return {name.upper() for name in settings_fields(project / "app/core/config.py")}


@pytest.mark.parametrize("name", _params(["minimal"]))
def test_make_db_init_and_migrate_on_sqlite(
    prepared: Callable[[str], Prepared], tmp_path: Path, name: str
) -> None:
    project = prepared(name)
    database = tmp_path / "nested" / "app.db"
    env = clean_env(DATABASE_URL=f"sqlite+aiosqlite:///{database}")
    first = project.make("db-init", env=env)
    assert first.ok, first.tail()
    assert database.is_file()
    again = project.make("migrate", env=env)
    assert again.ok, again.tail()
    list_tables = (
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
        "print([r[0] for r in c.execute('select name from sqlite_master')])"
    )
    tables = run([project.python, "-c", list_tables, str(database)], tmp_path, timeout=60)
    for table in ("alembic_version", "users", "agents"):
        assert table in tables.output


@pytest.mark.postgres
@pytest.mark.parametrize("name", _params(["postgresql_redis"]))
def test_make_db_init_creates_a_postgresql_database(
    prepared: Callable[[str], Prepared], service_urls: dict[str, str], name: str
) -> None:
    from sqlalchemy import make_url

    project = prepared(name)
    with server_with_pgvector(project.path, service_urls["TEST_DATABASE_URL"]) as admin_url:
        database = f"kickstart_dbinit_{uuid.uuid4().hex[:10]}"
        url = make_url(admin_url).set(database=database).render_as_string(hide_password=False)
        env = clean_env(DATABASE_URL=url)
        try:
            first = project.make("db-init", env=env)
            assert first.ok, first.tail()
            assert f"Created database '{database}'" in first.output
            second = project.make("db-init", env=env)
            assert second.ok, second.tail()
            assert f"Found database '{database}'" in second.output
        finally:
            _drop_database(project, admin_url, database)


def _drop_database(project: Prepared, admin_url: str, database: str) -> None:
    script = (
        "import asyncio, sys\n"
        "from sqlalchemy import text\n"
        "from sqlalchemy.ext.asyncio import create_async_engine\n"
        "async def main():\n"
        "    engine = create_async_engine(sys.argv[1], isolation_level='AUTOCOMMIT')\n"
        "    async with engine.connect() as c:\n"
        "        await c.execute(text(f'DROP DATABASE IF EXISTS \"{sys.argv[2]}\" WITH (FORCE)'))\n"
        "    await engine.dispose()\n"
        "asyncio.run(main())\n"
    )
    run([project.python, "-c", script, admin_url, database], project.path, timeout=60)


# --- make dev --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", _params(["default"]))
def test_make_dev_serves_with_no_external_service(
    prepared: Callable[[str], Prepared], name: str
) -> None:
    """The README's promise: `make dev` on a fresh render serves /health and /docs."""
    project = prepared(name)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    make_dev = ["make", "--no-print-directory", "dev", f"VENV={project.venv}", f"PORT={port}"]
    with serving(make_dev, project.path, env=clean_env(), url=f"{base}/health"):
        assert httpx.get(f"{base}/health").json()["status"] == "ok"
        docs = httpx.get(f"{base}/docs")
        assert docs.status_code == 200
        assert "swagger" in docs.text.lower()
        assert httpx.get(f"{base}/docs/assets/swagger-ui-bundle.js").status_code == 200
        # In development `/` leads to the playground.
        home = httpx.get(f"{base}/", follow_redirects=True)
        assert home.status_code == 200
        assert 'src="app.js"' in home.text
    assert (project.path / "data").is_dir(), "the SQLite database lives in data/"


# --- make bench ------------------------------------------------------------------------------

# The first words of every row `make bench` prints; the figures themselves are not judged.
BENCH_ROWS = (
    "cold start to first /health",
    "GET /health: requests/s",
    "GET /health: p50 / p99",
    "GET /api/v1/users/me (bearer): requests/s",
    "GET /api/v1/users/me (bearer): p50 / p99",
    "agent turn, scripted",
    "engine overhead per turn",
    "engine loop-thread CPU per turn",
    "SQL statements / pool checkouts per turn",
    "turn of a one-tool run",
    "SQL statements per turn of a one-tool run",
    "first SSE event of a streamed run",
    "worst event-loop lag, 20 concurrent logins",
    "peak RSS (VmHWM) after",
)


@pytest.mark.parametrize("name", _params(["default"]))
def test_make_bench_quick_prints_the_whole_table(
    prepared: Callable[[str], Prepared], name: str
) -> None:
    """`make bench ARGS=--quick` measures ours beside the bare app and prints every row.

    It prints figures only: the test checks that each row has one, not what it is.
    """
    project = prepared(name)
    outcome = project.make("bench", ARGS="--quick")
    assert outcome.ok, outcome.tail(40)
    assert re.search(r"^make bench --quick: .*, \d+ cores, .*SQLite", outcome.output, re.M)
    for label in BENCH_ROWS:
        row = re.search(rf"^{re.escape(label)}.*$", outcome.output, re.MULTILINE)
        assert row, f"no row {label!r}:\n{outcome.tail(40)}"
        assert re.search(r"\d", row.group(0)[len(label) :]), f"no figure in {row.group(0)!r}"


# --- AGENTS.md, executed -----------------------------------------------------------------

GUIDE_BLOCK = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def guide_steps(markdown: str) -> list[tuple[str, dict[str, str], str]]:
    """Fenced blocks in order: language, `key=value` attributes, body."""
    steps = []
    for language, info, body in GUIDE_BLOCK.findall(markdown):
        attributes = dict(part.split("=", 1) for part in shlex.split(info) if "=" in part)
        steps.append((language, attributes, body))
    return steps


EDITS = ("file", "append", "insert", "replace")


def apply_code_block(root: Path, attributes: dict[str, str], body: str) -> None:
    """Do what a `file=/append=/insert=/replace=` block in the guide tells the reader to do."""
    if "replace" in attributes:
        target = root / attributes["replace"]
        lines = target.read_text(encoding="utf-8").splitlines(keepends=True)
        matches = [i for i, line in enumerate(lines) if line.rstrip("\n") == attributes["line"]]
        assert len(matches) == 1, f"line {attributes['line']!r} found {len(matches)} times"
        lines[matches[0]] = body
        target.write_text("".join(lines), encoding="utf-8")
    elif "file" in attributes:
        target = root / attributes["file"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body, encoding="utf-8")
    elif "append" in attributes:
        target = root / attributes["append"]
        # PEP 8's two blank lines before a top-level definition.
        existing = target.read_text(encoding="utf-8").rstrip("\n")
        target.write_text(f"{existing}\n\n\n{body}", encoding="utf-8")
    elif "insert" in attributes:
        target = root / attributes["insert"]
        lines = target.read_text(encoding="utf-8").splitlines(keepends=True)
        anchor = attributes.get("before") or attributes["after"]
        matches = [i for i, line in enumerate(lines) if line.rstrip("\n") == anchor]
        assert len(matches) == 1, f"anchor {anchor!r} found {len(matches)} times in {target}"
        at = matches[0] if "before" in attributes else matches[0] + 1
        lines[at:at] = [body]
        target.write_text("".join(lines), encoding="utf-8")
    else:
        raise AssertionError(
            f"a python block without file=, append=, insert=, replace=: {attributes}"
        )


def test_agents_guide_commands_work(
    render: Callable[[str, dict[str, Any]], Path],
) -> None:
    """Follow AGENTS.md literally: every code block applied, every command it gives run.

    The server is started and the curl walkthrough run, then every recipe (a tool, a
    provider, a second OpenAI-compatible server, an entity with its migration) is applied
    and tested. Last, the whole `make check` must pass on the extended project, as it would
    before a push: for the `default` configuration, whose suite runs only the `slow` layer
    (servers, browser, load), this is where the rest of its tests run. It runs without
    coverage (`COVERAGE=`) and without the slow layer; the floor is for the template's own
    code, and the guide's examples are tested by their own files. Of the
    slow layer, the OpenAPI conformance test runs too, since it fuzzes the new routes.
    """
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    path = render("layer2-agents-guide", {"python_version": RUNNING_PYTHON})
    port = free_port()
    env = clean_env(VENV=str(SHARED_VENV), PORT=str(port))
    steps = guide_steps((path / "AGENTS.md").read_text(encoding="utf-8"))
    assert [lang for lang, _, _ in steps].count("bash") >= 4
    server: Server | None = None
    outputs: list[str] = []
    try:
        for language, attributes, body in steps:
            if any(edit in attributes for edit in EDITS):
                if server is not None:
                    server.stop()
                    server = None
                apply_code_block(path, attributes, body)
            elif language == "bash" and body.strip() == "make dev":
                server = start_server(
                    ["make", "--no-print-directory", "dev"],
                    path,
                    env=env,
                    url=f"http://127.0.0.1:{port}/health",
                )
            elif language == "bash":
                script = body.replace("localhost:8000", f"127.0.0.1:{port}")
                outcome = run(
                    ["bash", "-euo", "pipefail", "-c", script],
                    path,
                    env=env,
                    timeout=SUITE_TIMEOUT,
                )
                assert outcome.ok, f"$ {body}\n{outcome.tail(60)}"
                outputs.append(outcome.output)
    finally:
        if server is not None:
            server.stop()
    walkthrough = outputs[0]
    assert "calculator -> 42" in walkthrough
    assert "execution.completed" in walkthrough
    knowledge = next(output for output in outputs if "document: " in output)
    assert "document: indexed" in knowledge
    assert '"source":"leave.md"' in knowledge
    assert "search_knowledge -> " in knowledge
    assert "Ada works from Lisbon." in knowledge
    workflow = next(output for output in outputs if "event: approval.decided" in output)
    assert "event: run.completed" in workflow
    assert "The playground is live." in workflow
    applied = {attributes.get("file") for _, attributes, _ in steps}
    assert {
        "app/ai/tools/custom/word_count.py",
        "app/ai/providers/shout.py",
        "tests/ai/providers/test_vllm.py",
        "app/models/note.py",
        "tests/api/test_notes.py",
    } <= applied
    assert list((path / "alembic" / "versions").glob("*_add_notes.py"))
    check = run(
        ["make", "--no-print-directory", "check", "COVERAGE=", "ARGS=-m 'not slow'"],
        path,
        env=env,
        timeout=SUITE_TIMEOUT + 300,  # the suite, plus lint and mypy over the project
    )
    assert check.ok, check.tail(80)
    conformance = run(
        [
            "make",
            "--no-print-directory",
            "test",
            "COVERAGE=",
            "ARGS=-q tests/api/test_openapi_conformance.py",
        ],
        path,
        env=env,
        timeout=SUITE_TIMEOUT,
    )
    assert conformance.ok, conformance.tail(80)


# --- the README's quick start, literally --------------------------------------------------

README_QUICK_START = re.compile(
    r"^## Quick start\n.*?```bash\n(.*?)\n```", re.MULTILINE | re.DOTALL
)
COPY_IGNORE = shutil.ignore_patterns(
    ".git",
    ".venv",
    ".render",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
)


@pytest.mark.e2e
def test_readme_quick_start_serves_the_default_project(tmp_path: Path) -> None:
    """Run the README's first command in a copy of this checkout: it must end serving."""
    readme = (TEMPLATE_DIR / "README.md").read_text(encoding="utf-8")
    match = README_QUICK_START.search(readme)
    assert match, "no bash block under '## Quick start'"
    command = match.group(1).strip()
    checkout = tmp_path / "kickstartmyai"
    shutil.copytree(TEMPLATE_DIR, checkout, ignore=COPY_IGNORE)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = clean_env(PORT=str(port), PIP_NO_INPUT="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    # The command installs everything before it serves, so the deadline is the install's.
    with serving(
        ["bash", "-c", command], checkout, env=env, url=f"{base}/health", timeout=INSTALL_TIMEOUT
    ):
        assert httpx.get(f"{base}/docs").status_code == 200
    project = checkout / ".render" / "agent_service"
    assert (project / ".venv").is_dir()
    assert (project / "data").is_dir()


# --- packaging ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", _params(["default"]))
def test_wheel_ships_the_web_assets(
    prepared: Callable[[str], Prepared], name: str, tmp_path: Path
) -> None:
    """`pip install .` (not editable) must carry the playground's files and nothing else new."""
    project = prepared(name)
    built = run(
        [
            project.python,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--wheel-dir",
            str(tmp_path),
            ".",
        ],
        project.path,
        env=clean_env(),
        timeout=INSTALL_TIMEOUT,
    )
    assert built.ok, built.tail()
    (wheel,) = tmp_path.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = {
            entry.removeprefix("app/web/assets/playground/")
            for entry in archive.namelist()
            if entry.startswith("app/web/assets/playground/")
        }
    expected = {path.name for path in (project.path / "app/web/assets/playground").iterdir()}
    assert shipped == expected
