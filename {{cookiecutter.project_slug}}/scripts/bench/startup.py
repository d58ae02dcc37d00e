"""Cold start: launching `uvicorn` to the first 200 from `/health`, ours and the bare app in turn."""

from __future__ import annotations

import compileall
from pathlib import Path

from scripts.bench.environment import APPS, alternate
from scripts.serving import PROJECT_ROOT, start, stop, wait_ready

# What the Docker image compiles (app, alembic), and the bare app's folder.
COMPILED = ("app", "alembic", "scripts")


def compile_bytecode() -> None:
    """Write every module's bytecode beforehand, as the Docker image does.

    A first start writes it too, but not under PYTHONDONTWRITEBYTECODE (the image sets
    it, so do some shells and CI runners): each trial would then compile every module.
    """
    for folder in COMPILED:
        compileall.compile_dir(PROJECT_ROOT / folder, quiet=1)


def cold_starts(trials: int, env: dict[str, str], folder: Path) -> dict[str, list[float]]:
    """Milliseconds from launch to the first answer, `trials` times each, interleaved.

    The bytecode is compiled first, and a first, untimed start of each migrates the
    database, so the trials measure a restart of a deployed worker, not a first install.
    """
    compile_bytecode()
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
