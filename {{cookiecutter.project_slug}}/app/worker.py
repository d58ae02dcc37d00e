"""`python -m app.worker`: a process that executes queued runs, with health and metrics only.

It is the application with `RUN_ROLE=worker`: it takes runs from the queue, resumes runs a
dead process left, and serves `/health`, `/health/ready` and `/metrics` for probes, not
the API. {% if cookiecutter.use_redis %}Start as many as the load needs; with more than one process executing runs,
set REDIS_URL so they share cancel flags and leases.{% else %}Without Redis, cancel flags and leases live in each process: run one process
that executes runs at a time.{% endif %}
"""

from __future__ import annotations

import argparse
import os

import uvicorn

DEFAULT_PORT = 8001


def main(argv: list[str] | None = None) -> None:
    """Serve the worker until it is told to stop; SIGTERM leaves runs in flight to resume."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1", help="where probes reach it")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="health and metrics port")
    args = parser.parse_args(argv)
    os.environ["RUN_ROLE"] = "worker"
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        log_level="warning",
        timeout_graceful_shutdown=20,
    )


if __name__ == "__main__":
    main()
