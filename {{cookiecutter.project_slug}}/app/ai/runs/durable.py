"""Runs as durable workflows on DBOS: checkpointed steps, a queue for workers, resumption.

A run is the workflow `agent_run`, keyed by its execution id and started with the run
as it was prepared. Each model call, tool call and write of the run's rows is a step
whose result DBOS records, so a run resumed in another process after a crash repeats
none that completed. DBOS is one per process:
every application in it acquires it at start, and the last one to stop shuts it down.
"""

from __future__ import annotations

import os
import socket
import tempfile
import uuid
from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ParamSpec, Protocol, TypeVar

from dbos import DBOS, DBOSConfig, Queue, SetWorkflowID, StepOptions, WorkflowHandleAsync
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from app.ai.runs import event_ids
from app.ai.runs.types import PreparedRun
from app.core.config import Settings

T = TypeVar("T")
P = ParamSpec("P")

QUEUE_NAME = "agent-runs"
WORKFLOW_NAME = "agent_run"
# Workflow states in which some process runs the workflow or will.
ACTIVE_STATES = frozenset({"PENDING", "ENQUEUED"})
# States of a run no process has begun: no workflow yet (None), or one waiting in the queue.
UNSTARTED_STATES = frozenset({None, "ENQUEUED"})
_attempt: ContextVar[str] = ContextVar("run_attempt", default="")


class DurableRunner(Protocol):
    """What the workflow needs from the application that executes it."""

    async def run_workflow(self, prepared: PreparedRun, *, stream: bool) -> dict[str, Any]:
        """Run the execution to its end inside the workflow; how it ended."""
        ...


@dataclass
class _Engine:
    """The process's DBOS and the applications using it."""

    users: set[int] = field(default_factory=set)
    queue: Queue | None = None
    primary: DurableRunner | None = None
    launched_here: dict[str, DurableRunner] = field(default_factory=dict)


_engine = _Engine()


def system_database_url(settings: Settings) -> str:
    """Where DBOS keeps its state: RUNS_DATABASE_URL, else beside the application's data.

    PostgreSQL: the same database (DBOS uses its own `dbos` schema) through psycopg.
    SQLite: a second file next to the first, so the two never wait on each other's lock.
    """
    if settings.runs_database_url:
        return settings.runs_database_url
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite":
        return url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    database = url.database or ""
    if database in ("", ":memory:"):
        return f"sqlite:///{Path(tempfile.gettempdir()) / f'runs-{os.getpid()}.db'}"
    path = Path(database)
    suffix = path.suffix or ".db"
    return f"sqlite:///{path.with_name(f'{path.stem}-runs{suffix}')}"


def _sqlite_engine(url: str) -> Engine:
    """DBOS's own SQLite settings, plus WAL and NORMAL sync: recording a step needs no fsync.

    In WAL mode NORMAL never corrupts the file; a power cut may lose the last recorded
    steps, which the resumed run then repeats.
    """
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _pragmas(connection: Any, _record: Any) -> None:
        connection.isolation_level = "IMMEDIATE"  # writers queue, as in DBOS's own engine
        connection.execute("PRAGMA busy_timeout=30000")
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")

    return engine


async def acquire(settings: Settings, runner: DurableRunner) -> None:
    """Launch DBOS for this process if no application has yet; `runner` resumes runs here."""
    if not _engine.users:
        url = system_database_url(settings)
        config: DBOSConfig = {
            "name": "agent-runs",
            "system_database_url": url,
            "executor_id": f"{socket.gethostname()}-{os.getpid()}",
            "log_level": "WARNING",
            "notification_listener_polling_interval_sec": settings.run_queue_poll_seconds,
        }
        if url.startswith("sqlite"):
            config["system_database_engine"] = _sqlite_engine(url)
        else:
            config["sys_db_pool_size"] = settings.runs_database_pool_size
        DBOS(config=config)
        if settings.run_role == "api":
            DBOS.listen_queues([])
        DBOS.launch()
        _engine.queue = await DBOS.register_queue_async(
            QUEUE_NAME,
            concurrency=settings.run_queue_concurrency or None,
            worker_concurrency=settings.max_concurrent_runs,
            polling_interval_sec=settings.run_queue_poll_seconds,
        )
        _engine.primary = runner
    _engine.users.add(id(runner))


def release(runner: DurableRunner) -> None:
    """Let go of DBOS; the last application to stop shuts it down."""
    if id(runner) not in _engine.users:
        return
    _engine.users.discard(id(runner))
    if _engine.primary is runner:
        _engine.primary = None
    if not _engine.users:
        DBOS.destroy(destroy_registry=False)
        _engine.queue = None
        _engine.launched_here.clear()


def runs_here() -> bool:
    """Whether an application in this process can execute runs."""
    return bool(_engine.users)


async def start(
    runner: DurableRunner, prepared: PreparedRun, *, stream: bool
) -> WorkflowHandleAsync[dict[str, Any]]:
    """Run the execution in this process now, as a workflow another can resume."""
    key = str(prepared.execution_id)
    _engine.launched_here[key] = runner
    with SetWorkflowID(key):
        return await DBOS.start_workflow_async(agent_run, prepared, stream)


async def enqueue(prepared: PreparedRun, *, stream: bool = False) -> None:
    """Queue the execution for whichever worker takes it first."""
    assert _engine.queue is not None, "acquire() first"
    with SetWorkflowID(str(prepared.execution_id)):
        await _engine.queue.enqueue_async(agent_run, prepared, stream)


async def cancel(execution_id: uuid.UUID) -> None:
    """Make sure the engine never starts or resumes this run."""
    if await state_of(execution_id) in ACTIVE_STATES:
        await DBOS.cancel_workflow_async(str(execution_id))


async def state_of(execution_id: uuid.UUID) -> str | None:
    """The workflow's state (`PENDING`, `ENQUEUED`, `SUCCESS`...), None when it has none."""
    status = await DBOS.get_workflow_status_async(str(execution_id))
    return None if status is None else status.status


async def resume(execution_id: uuid.UUID, state: str) -> bool:
    """Hand a started run whose process is gone to the queue, to go on from its last step.

    False when the engine has it ended: only its outcome's write was lost.
    """
    if state == "PENDING":
        await DBOS.resume_workflow_async(str(execution_id), queue_name=QUEUE_NAME)
        return True
    return state == "ENQUEUED"


async def step(
    name: str, action: Callable[P, Coroutine[Any, Any, T]], *args: P.args, **kwargs: P.kwargs
) -> T:
    """Run `action` as a named step whose result is recorded; outside a workflow, just run it.

    Inside a resumed workflow a step that completed before returns its recorded result
    (or raises its recorded error) without running again. Either way the step counts
    toward the run's position, which numbers its events (`event_ids`).
    """
    number = event_ids.step_begun()

    async def counted(*args: P.args, **kwargs: P.kwargs) -> T:
        with event_ids.inside(number):
            return await action(*args, **kwargs)

    if DBOS.workflow_id is None:
        return await counted(*args, **kwargs)
    options: StepOptions = {"name": name, "retries_allowed": False}
    return await DBOS.run_step_async(options, counted, *args, **kwargs)


async def repeatable_step(
    action: Callable[P, Coroutine[Any, Any, T]], *args: P.args, **kwargs: P.kwargs
) -> T:
    """Run `action`, which is safe to run twice, as a step the engine does not record.

    It saves the two writes and thread hops of a recorded step; a resumed workflow runs it
    again instead of replaying it. It still counts toward the run's position, so the
    events it sends keep their ids.
    """
    with event_ids.inside(event_ids.step_begun()):
        return await action(*args, **kwargs)


def attempt() -> str:
    """This execution of the workflow's code: a resumed run gets a new one."""
    return _attempt.get()


async def current_attempt() -> str:
    """The attempt, as a step records it: an earlier attempt's value means it was cut short."""
    return attempt()


@DBOS.workflow(name=WORKFLOW_NAME)
async def agent_run(prepared: PreparedRun, stream: bool) -> dict[str, Any]:
    """The durable run: everything it does goes through `step`, so it resumes where it was."""
    runner = _engine.launched_here.pop(str(prepared.execution_id), None) or _engine.primary
    if runner is None:
        raise RuntimeError("No application in this process executes runs")
    _attempt.set(uuid.uuid4().hex)
    return await runner.run_workflow(prepared, stream=stream)
