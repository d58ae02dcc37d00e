"""The three tables `make bench-durable` prints, each with the settings it was measured with."""

from __future__ import annotations

from collections.abc import Sequence

from scripts.bench.table import grid, median, ms, pair, percentile
from scripts.bench_durable.resume import LEASE_SECONDS, SWEEP_SECONDS, Trial
from scripts.bench_durable.throughput import MESSAGE as THROUGHPUT_MESSAGE
from scripts.bench_durable.throughput import USERS, WORKER_RUNS, Throughput

RUNS = {"one_turn": "one-turn run", "tool": "one-tool run (2 model calls)"}
STEP_TARGET_MS = 5.0
WORKFLOW_TARGET_MS = 20.0


def _p50_p95(values: Sequence[float]) -> tuple[float, float]:
    return percentile(values, 0.50), percentile(values, 0.95)


def overhead_table(title: str, samples: dict[str, list[float]], *, postgres: bool) -> str:
    """Durable beside plain per run kind: wall time, the difference, the difference per step."""
    lines = []
    for kind, label in RUNS.items():
        durable, plain = samples[f"{kind}_durable_ms"], samples[f"{kind}_plain_ms"]
        differences = [a - b for a, b in zip(durable, plain, strict=True)]
        steps = int(samples[f"{kind}_steps"][0])
        difference = _p50_p95(differences)
        per_step = difference[0] / steps
        met = "" if not postgres else "yes" if per_step < STEP_TARGET_MS else "NO"
        lines.append(
            (
                label,
                pair(*_p50_p95(durable)),
                pair(*_p50_p95(plain)),
                pair(*difference),
                str(steps),
                ms(per_step),
                f"< {STEP_TARGET_MS:g} ms per step on PostgreSQL",
                met,
            )
        )
    header = (
        "run",
        "durable p50 / p95",
        "plain p50 / p95",
        "difference p50 / p95",
        "steps",
        "per step (p50)",
        "target",
        "met",
    )
    notes = (
        "durable: manager.prepare + launch, a DBOS workflow recording each step;"
        " plain: the same rows stored, then manager.run with each step a plain call.",
        "Pairs are interleaved (the order alternates); the difference is taken pair by pair.",
    )
    return grid(title, header, lines, notes, numeric=5)


def workflow_table(title: str, samples: dict[str, list[float]], *, postgres: bool) -> str:
    """A workflow run's wall time beside its agent runs' own: what the workflow adds."""
    steps = int(samples["steps"][0])
    overhead = _p50_p95(samples["overhead_ms"])
    met = "" if not postgres else "yes" if overhead[0] < WORKFLOW_TARGET_MS else "NO"
    line = (
        f"{steps} agent steps in a line",
        pair(*_p50_p95(samples["workflow_ms"])),
        pair(*_p50_p95(samples["agents_ms"])),
        pair(*overhead),
        ms(overhead[0] / steps),
        f"< {WORKFLOW_TARGET_MS:g} ms per run on PostgreSQL",
        met,
    )
    header = (
        "workflow",
        "run p50 / p95",
        "agent runs p50 / p95",
        "overhead p50 / p95",
        "per step (p50)",
        "target",
        "met",
    )
    notes = (
        "run: launch (as the API launches it) to the finish the run records; agent runs: the"
        " sum of its agent runs' spans, each stored to recorded finish; overhead: the"
        " difference, run by run.",
    )
    return grid(title, header, [line], notes, numeric=4)


def resume_table(title: str, trials: Sequence[Trial], *, shared_store: bool) -> str:
    """Each kill's times to the next event and to the end, then their medians."""
    lines = [
        (
            f"kill {number}",
            _seconds(t.next_event),
            _seconds(t.ended),
            _seconds(t.start_up),
            t.outcome,
        )
        for number, t in enumerate(trials, start=1)
    ]
    lines.append(
        (
            "median",
            _seconds(median([t.next_event for t in trials])),
            _seconds(median([t.ended for t in trials])),
            _seconds(median([t.start_up for t in trials])),
            "",
        )
    )
    header = ("kill -9", "to the next event", "to the outcome", "replacement start-up", "outcome")
    settings = (
        f"RUN_LEASE_SECONDS={LEASE_SECONDS}, SWEEP_INTERVAL_SECONDS={SWEEP_SECONDS:g};"
        " killed once tool.result arrived, during the second model call (1 s), which is redone;"
        " a next event at once is one the worker logged before dying, delivered late."
    )
    why = (
        "Dominated by RUN_LEASE_SECONDS: no process resumes a run before the dead worker's lease"
        " lapses, then the next sweep of a worker (every SWEEP_INTERVAL_SECONDS) queues it."
        if shared_store
        else "Without Redis each process keeps its own leases: the replacement resumes the run"
        " in its start-up sweep, so its start-up dominates (RUN_LEASE_SECONDS plays no part)."
    )
    return grid(title, header, lines, (settings, why), numeric=3)


def throughput_table(title: str, results: Sequence[Throughput]) -> str:
    """Runs per second per worker count."""
    lines = [
        (
            str(r.workers),
            str(r.runs),
            str(r.completed),
            str(r.failed),
            f"{r.seconds:.1f} s",
            f"{r.per_second:.1f}",
        )
        for r in results
    ]
    header = ("workers", "runs", "completed", "failed", "time", "runs/s")
    notes = (
        f"One API process (RUN_ROLE=api); each worker MAX_CONCURRENT_RUNS={WORKER_RUNS};"
        f" background runs from {USERS} users, message {THROUGHPUT_MESSAGE!r};"
        " timed from the first request to the last run stored as ended.",
    )
    return grid(title, header, lines, notes, numeric=5)


def _seconds(value: float) -> str:
    return f"{value:.2f} s"
