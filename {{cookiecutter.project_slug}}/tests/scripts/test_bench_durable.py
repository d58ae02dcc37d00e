"""`make bench-durable ARGS="--quick --part ..."` measures on SQLite and prints each table."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from scripts.serving import PROJECT_ROOT

pytestmark = pytest.mark.slow

ROWS = ("one-turn run", "one-tool run (2 model calls)")


def _bench(part: str) -> str:
    """What `make bench-durable ARGS="--quick --part PART"` prints, on SQLite."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("BENCH_")}
    done = subprocess.run(  # noqa: S603 - our own interpreter and module, a fixed part name
        [sys.executable, "-m", "scripts.bench_durable", "--quick", "--part", part],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_the_overhead_part_prints_durable_beside_plain_for_each_run() -> None:
    output = _bench("overhead")
    assert re.search(r"^make bench-durable --quick, overhead .*, \d+ cores, .*SQLite", output, re.M)
    assert re.search(r"^run\s+durable p50 / p95\s+plain p50 / p95\s+difference", output, re.M)
    for label in ROWS:
        row = re.search(rf"^{re.escape(label)}.*$", output, re.MULTILINE)
        assert row, f"no row {label!r}:\n{output}"
        # Durable, plain and difference as p50 / p95, then the steps the workflow recorded.
        cells = row.group(0)[len(label) :]
        assert len(re.findall(r"-?[\d.]+ / -?[\d.]+ ms", cells)) == 3, row.group(0)
        assert re.search(r"ms\s+\d+\s+-?[\d.]+ ms", cells), row.group(0)
    assert "resume" not in output
    assert "throughput" not in output


def test_the_workflow_part_prints_a_runs_overhead_beside_its_agent_runs() -> None:
    output = _bench("workflow")
    assert re.search(r"^make bench-durable --quick, workflow overhead .*SQLite", output, re.M)
    row = re.search(r"^4 agent steps in a line(.*)$", output, re.MULTILINE)
    assert row, output
    # Run, agent runs and overhead as p50 / p95, then the overhead per step.
    assert len(re.findall(r"-?[\d.]+ / -?[\d.]+ ms", row.group(1))) == 3, row.group(0)
    run_p50, agents_p50 = (float(cell) for cell in re.findall(r"(-?[\d.]+) / ", row.group(1))[:2])
    assert run_p50 > agents_p50 > 0
    assert "resume" not in output
