#!/usr/bin/env python3
"""Render configurations of the template, check them, run their suites, print a table.

The human-facing twin of the pytest suite in tests/ (same configurations, same checks):

    python test_template.py                 # every supported config; suites for the layer-2 set
    python test_template.py --quick         # render + lint only, no generated suites
    python test_template.py default minimal # only these configurations
    python test_template.py --all-suites    # run the generated suite of every configuration
    python test_template.py --list          # show the configuration names

Generated suites run with this interpreter's environment (install requirements-dev.txt
into it first), rendered for this Python. Configurations that use PostgreSQL and Redis
get TEST_DATABASE_URL / TEST_REDIS_URL from the environment, defaulting to 127.0.0.1.
Exit status 1 when any check failed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cookiecutter.exceptions import CookiecutterException
from cookiecutter.main import cookiecutter

from tests.helpers import (
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    PYTHON_VERSIONS,
    RUNNING_PYTHON,
    SUITES,
    SUPPORTED,
    TEMPLATE_DIR,
    answers_for,
    leftover_template_syntax,
)
from tests.processes import clean_env, generated_pytest, ruff_check, ruff_format_check


@dataclass
class Row:
    """One configuration's results, as printed."""

    config: str
    render_seconds: float = 0.0
    rendered: bool = False
    leftovers: int = 0
    lint: str = "-"
    tests: str = "-"
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """A render passes when no check reported a problem."""
        return not self.problems


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Silence the hooks' "next steps" (a subprocess, so redirect the file descriptor)."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def render(config: str, extra: dict[str, Any], output: Path) -> Path:
    """Render one configuration into `output`; the project folder."""
    with quiet_stdout():
        project = cookiecutter(
            str(TEMPLATE_DIR),
            no_input=True,
            extra_context=extra,
            output_dir=str(output / config),
        )
    return Path(project)


def check(config: str, extra: dict[str, Any], output: Path, *, suite: bool) -> Row:
    """Every check for one configuration, collecting problems instead of stopping."""
    row = Row(config)
    started = time.monotonic()
    try:
        project = render(config, extra, output)
    except (CookiecutterException, OSError) as error:  # report it in the table, move on
        row.render_seconds = time.monotonic() - started
        row.problems.append(f"render failed: {error}")
        row.seconds = row.render_seconds
        return row
    row.render_seconds = time.monotonic() - started
    row.rendered = True

    hits = leftover_template_syntax(project)
    row.leftovers = len(hits)
    row.problems += [f"leftover template syntax: {hit}" for hit in hits[:5]]

    lint, fmt = ruff_check(project), ruff_format_check(project)
    row.lint = "ok" if lint.ok and fmt.ok else "FAIL"
    if not lint.ok:
        row.problems.append(f"ruff check:\n{lint.tail(15)}")
    if not fmt.ok:
        row.problems.append(f"ruff format --check:\n{fmt.tail(15)}")

    if suite:
        env = clean_env()
        answers = answers_for(extra)
        if answers["database"] == "postgresql":
            env["TEST_DATABASE_URL"] = os.environ.get("TEST_DATABASE_URL", DEFAULT_DATABASE_URL)
        if str(answers["use_redis"]).lower() in ("true", "1", "yes", "y", "on"):
            env["TEST_REDIS_URL"] = os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS_URL)
        outcome = generated_pytest(sys.executable, project, env=env)
        passed, failed = (
            outcome.counts.get("passed", 0),
            outcome.counts.get("failed", 0),
        )
        failed += outcome.counts.get("error", 0)
        row.tests = f"{passed} passed, {failed} failed"
        if not outcome.ok or failed or not passed:
            row.problems.append(
                f"generated pytest (exit {outcome.returncode}):\n{outcome.tail(25)}"
            )
    row.seconds = time.monotonic() - started
    return row


def print_table(rows: list[Row]) -> None:
    """A fixed-width summary, one line per configuration."""
    header = ("config", "render s", "jinja", "lint", "tests", "seconds", "result")
    lines = [
        (
            row.config,
            f"{row.render_seconds:.2f}",
            "ok"
            if row.rendered and not row.leftovers
            else ("-" if not row.rendered else str(row.leftovers)),
            row.lint,
            row.tests,
            f"{row.seconds:.1f}",
            "ok" if row.ok else "FAIL",
        )
        for row in rows
    ]
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *lines, strict=True)]
    for cells in [header, tuple("-" * w for w in widths), *lines]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(cells, widths, strict=True)))


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Which configurations to render and how far to check them."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("configs", nargs="*", help="configuration names (default: all)")
    parser.add_argument("--quick", action="store_true", help="skip the generated suites")
    parser.add_argument(
        "--all-suites",
        action="store_true",
        help="run the generated suite of every config",
    )
    parser.add_argument("--keep", action="store_true", help="keep the rendered projects")
    parser.add_argument("--list", action="store_true", help="list the configurations")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    """Render and check the chosen configurations; the exit code says whether all passed."""
    args = parse_args(argv)
    configs = {**SUPPORTED, **{f"suite:{k}": v.extra for k, v in SUITES.items()}}
    if args.list:
        for name, extra in configs.items():
            print(f"{name:24} {extra}")
        return 0
    selected = args.configs or list(SUPPORTED)
    unknown = [name for name in selected if name not in configs]
    if unknown:
        print(
            f"unknown configuration(s): {', '.join(unknown)}; see --list",
            file=sys.stderr,
        )
        return 2

    output = Path(tempfile.mkdtemp(prefix="kickstart-"))
    rows = []
    try:
        for name in selected:
            extra = dict(configs[name])
            bare_name = name.removeprefix("suite:")
            suite = not args.quick and (args.all_suites or bare_name in SUITES)
            if suite and RUNNING_PYTHON in PYTHON_VERSIONS:
                extra["python_version"] = RUNNING_PYTHON  # its suite runs on this interpreter
            print(f"... {name}", flush=True)
            rows.append(check(name.replace(":", "_"), extra, output, suite=suite))
    finally:
        if args.keep:
            print(f"rendered projects kept in {output}")
        else:
            shutil.rmtree(output, ignore_errors=True)

    print()
    print_table(rows)
    failures = [row for row in rows if not row.ok]
    for row in failures:
        print(f"\n== {row.config}")
        for problem in row.problems:
            print(problem)
    print(f"\n{len(rows) - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
