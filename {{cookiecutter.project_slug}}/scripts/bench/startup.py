"""Cold start: launching `uvicorn` to the first 200 from `/health`, ours and the bare app in turn."""

from __future__ import annotations

from pathlib import Path

from scripts.bench.environment import APPS, alternate
from scripts.serving import start, stop, wait_ready


def cold_starts(trials: int, env: dict[str, str], folder: Path) -> dict[str, list[float]]:
    """Milliseconds from launch to the first answer, `trials` times each, interleaved.

    A first, untimed start of each compiles the bytecode and migrates the database, so
    the trials measure a restart of a deployed worker, not a first install.
    """
    samples: dict[str, list[float]] = {app.name: [] for app in APPS}
    for trial in range(-1, trials):
        for app in alternate(APPS, trial):
            served = start(
                app.spec,
                env=env,
                log=folder / f"{app.name}-start.log",
                factory=app.factory,
                cwd=folder,
            )
            try:
                seconds = wait_ready(served)
            finally:
                stop(served)
            if trial >= 0:
                samples[app.name].append(seconds * 1000)
    return samples
