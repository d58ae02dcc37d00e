"""Indexing after the upload has been answered: a durable job on a DBOS queue.

The upload request stores the document as `pending`, queues the job `index_document`
with the document's bytes and returns; whichever process takes runs takes the job,
extracts, chunks and embeds, and marks the document `indexed` or `failed` with the
reason. The job is leased while it runs; if its process dies, the sweep of a live one
resumes it from the bytes DBOS recorded. Indexing writes a document whole or not at
all, so a job that starts over leaves nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import structlog
from dbos import DBOS, Queue, SetWorkflowID, StepOptions

from app.ai.knowledge import ingestion, repository
from app.ai.knowledge.chunking import ChunkingOptions
from app.ai.knowledge.embedders.source import EmbedderSource
from app.core.bounded import settle
from app.core.config import Settings
from app.core.outages import OUTAGE_ERRORS
from app.core.store import KeyValueStore
from app.core.sweeping import sweep_until_stopped
from app.db.session import Database

logger = structlog.get_logger(__name__)

QUEUE_NAME = "knowledge-ingestion"
WORKFLOW_NAME = "index_document"
SWEEP_LOCK_KEY = "ingestion-sweep-lock"
LEASE_PREFIX = "ingestion-lease:"
STOP_WAIT_SECONDS = 10.0
INTERRUPTED = "indexing was interrupted; upload the document again"
# Job states in which a process runs the job or will.
WAITING_STATES = frozenset({"ENQUEUED"})
RESUMABLE_STATES = frozenset({"PENDING"})


@dataclass
class _Registry:
    """The queue of the application in this process that executes jobs."""

    primary: IngestionQueue | None = None
    queues: list[IngestionQueue] = field(default_factory=list)


_registry = _Registry()


def job_prefix(document_id: uuid.UUID) -> str:
    """The start of every job id of a document: each upload attempt gets its own job."""
    return f"index-{document_id}-"


@DBOS.workflow(name=WORKFLOW_NAME)
async def index_document_job(organization_id: str, document_id: str, content: bytes) -> str:
    """The durable job: one recorded step that indexes the document whole."""
    queue = _registry.primary
    if queue is None:
        raise RuntimeError("No application in this process indexes documents")
    options: StepOptions = {"name": "index", "retries_allowed": False}
    return await DBOS.run_step_async(
        options, queue.execute, uuid.UUID(organization_id), uuid.UUID(document_id), content
    )


class IngestionQueue:
    """Queues indexing jobs, executes those this process takes, and resumes orphans."""

    def __init__(
        self,
        database: Database,
        embedders: EmbedderSource,
        options: ChunkingOptions,
        *,
        store: KeyValueStore,
        settings: Settings,
    ) -> None:
        self._database = database
        self._embedders = embedders
        self._options = options
        self._store = store
        self._settings = settings
        self._queue: Queue | None = None
        self._jobs: dict[uuid.UUID, asyncio.Task[object]] = {}
        self._stop = asyncio.Event()
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Register the queue and, where runs execute, sweep; after DBOS is launched."""
        self._queue = await DBOS.register_queue_async(
            QUEUE_NAME,
            worker_concurrency=self._settings.knowledge_ingestion_concurrency,
            polling_interval_sec=self._settings.run_queue_poll_seconds,
        )
        if _registry.primary is None:
            _registry.primary = self
        _registry.queues.append(self)
        if self._settings.run_role != "api":
            self._sweeper = asyncio.create_task(
                sweep_until_stopped(
                    self._store,
                    name="ingestion",
                    lock_key=SWEEP_LOCK_KEY,
                    interval=self._settings.sweep_interval_seconds,
                    sweep=self.sweep,
                    stop=self._stop,
                )
            )

    async def submit(
        self, *, organization_id: uuid.UUID, document_id: uuid.UUID, content: bytes
    ) -> None:
        """Queue the pending document's indexing; it outlives this process once queued.

        Leased first, so no sweep takes the document for an orphan before the job exists.
        """
        assert self._queue is not None, "start() first"
        lease = self._settings.run_lease_seconds
        await self._renew_lease(document_id, lease)
        with SetWorkflowID(f"{job_prefix(document_id)}{uuid.uuid4().hex[:12]}"):
            await self._queue.enqueue_async(
                index_document_job, str(organization_id), str(document_id), content
            )

    @property
    def in_flight(self) -> int:
        """Documents being indexed in this process now, for probes and tests."""
        return len(self._jobs)

    async def execute(
        self, organization_id: uuid.UUID, document_id: uuid.UUID, content: bytes
    ) -> str:
        """The job's step, leased while it runs here; the document's final status."""
        task = asyncio.current_task()
        assert task is not None
        self._jobs[document_id] = task
        lease = asyncio.create_task(self._hold_lease(document_id))
        try:
            document = await ingestion.index_document(
                self._database,
                self._embedders.get(),
                organization_id=organization_id,
                document_id=document_id,
                content=content,
                options=self._options,
            )
            return "deleted" if document is None else document.status.value
        except Exception:
            # index_document has marked the document failed; the log keeps the cause.
            logger.exception("knowledge_indexing_failed", document_id=str(document_id))
            return "failed"
        finally:
            lease.cancel()
            self._jobs.pop(document_id, None)
            with contextlib.suppress(*OUTAGE_ERRORS):
                await self._store.delete(f"{LEASE_PREFIX}{document_id}")

    async def shutdown(self) -> None:
        """Stop sweeping; wait a bounded time for jobs here, leaving the rest to resume."""
        self._stop.set()
        if self._sweeper is not None:
            await settle(self._sweeper, STOP_WAIT_SECONDS)
        if self._jobs:
            await asyncio.wait(list(self._jobs.values()), timeout=STOP_WAIT_SECONDS)
        for job in list(self._jobs.values()):
            job.cancel()
        if self in _registry.queues:
            _registry.queues.remove(self)
        if _registry.primary is self:
            _registry.primary = _registry.queues[0] if _registry.queues else None

    async def sweep(self) -> int:
        """Resume the jobs of pending documents whose process died; fail those with no job."""
        resumed = 0
        for document_id in await self._pending_documents():
            if document_id in self._jobs:
                continue
            if await self._store.get(f"{LEASE_PREFIX}{document_id}") is not None:
                continue
            jobs = await DBOS.list_workflows_async(
                workflow_id_prefix=job_prefix(document_id),
                sort_desc=True,
                limit=1,
                load_input=False,
                load_output=False,
            )
            state = jobs[0].status if jobs else None
            if state in WAITING_STATES:
                continue
            if state in RESUMABLE_STATES:
                await DBOS.resume_workflow_async(jobs[0].workflow_id, queue_name=QUEUE_NAME)
                resumed += 1
                logger.warning("knowledge_indexing_resumed", document_id=str(document_id))
            else:
                async with self._database.transaction() as session:
                    await repository.fail_pending(
                        session, document_id=document_id, reason=INTERRUPTED
                    )
                logger.warning("knowledge_indexing_lost", document_id=str(document_id))
        return resumed

    async def _pending_documents(self) -> list[uuid.UUID]:
        """Documents pending for longer than a lease: an upload in progress holds one."""
        grace = timedelta(seconds=self._settings.run_lease_seconds)
        async with self._database.transaction() as session:
            return await repository.pending_document_ids(session, older_than=grace)

    async def _renew_lease(self, document_id: uuid.UUID, seconds: float) -> None:
        """Claim the document as being queued or indexed for another lease period."""
        ttl = max(1, round(seconds))
        await self._store.set(f"{LEASE_PREFIX}{document_id}", "1", ttl_seconds=ttl)

    async def _hold_lease(self, document_id: uuid.UUID) -> None:
        seconds = self._settings.run_lease_seconds
        while True:
            with contextlib.suppress(*OUTAGE_ERRORS):
                await self._renew_lease(document_id, seconds)
            await asyncio.sleep(seconds / 3)
