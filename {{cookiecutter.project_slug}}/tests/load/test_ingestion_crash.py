"""A process killed while indexing a document (`kill -9`): a worker started after it finishes.

The upload was answered (202, `pending`) and the document's embedding call hangs when
the whole process group is killed. A worker on the same database (and Redis, when used)
resumes the job from the bytes the queue recorded: the document ends `indexed` with its
chunks stored once.
"""
{%- if cookiecutter.use_openai %}

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from app.core.config import Settings
from app.db.session import Database
from app.models import KnowledgeChunk, KnowledgeDocument
from tests.support.fake_provider import FakeProvider
from tests.support.fake_replies import Hang, Json
from tests.support.load import sign_in
from tests.support.served import served, service_env
from tests.support.waiting import wait_for

pytestmark = pytest.mark.slow

DIMENSION = 8
DOCUMENT = b"# Leave\n\nEvery employee gets 25 days of paid leave a year."
RESUME_SECONDS = 45.0
EMBEDDINGS = {
    "object": "list",
    "model": "text-embedding-3-small",
    "data": [{"object": "embedding", "index": 0, "embedding": [0.5] * DIMENSION}],
    "usage": {"prompt_tokens": 12, "total_tokens": 12},
}


async def _upload(url: str) -> str:
    """Sign up, make a base and upload the document; its id, while it is pending."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        _, headers = await sign_in(http)
        base = await http.post(
            "/api/v1/knowledge-bases", json={"name": "handbook"}, headers=headers
        )
        assert base.status_code == 201, base.text
        response = await http.post(
            f"/api/v1/knowledge-bases/{base.json()['id']}/documents",
            files={"file": ("leave.md", DOCUMENT, "text/markdown")},
            headers=headers,
        )
    assert response.status_code == 202, response.text
    document_id: str = response.json()["id"]
    return document_id


async def _stored(database_url: str, document_id: str) -> tuple[KnowledgeDocument, int]:
    """The document's row and how many chunks it has."""
    database = Database(Settings(_env_file=None, database_url=database_url))
    try:
        async with database.transaction() as session:
            document = await session.get(KnowledgeDocument, uuid.UUID(document_id))
            assert document is not None
            chunks = await session.scalar(
                select(func.count())
                .select_from(KnowledgeChunk)
                .where(KnowledgeChunk.document_id == document.id)
            )
            return document, int(chunks or 0)
    finally:
        await database.dispose()


async def test_a_worker_finishes_indexing_the_document_of_a_killed_process(
    service_settings: dict[str, str], fake_provider: FakeProvider, tmp_path: Path
) -> None:
    fake_provider.queue(Hang(seconds=120))
    fake_provider.always(Json(EMBEDDINGS))
    env = service_env(
        OPENAI_API_KEY="sk-test",
        OPENAI_BASE_URL=fake_provider.url,
        LLM_MAX_RETRIES="0",
        EMBEDDING_PROVIDER="openai",
        EMBEDDING_MODEL="text-embedding-3-small",
        EMBEDDING_DIMENSION=str(DIMENSION),
        SWEEP_INTERVAL_SECONDS="0.5",
        RUN_LEASE_SECONDS="2",
        **service_settings,
    )
    database_url = service_settings["DATABASE_URL"]
    with served(env, tmp_path) as first:
        document_id = await _upload(first.url)
        fake_provider.wait_for_requests(1)  # the embedding call hangs
        first.kill()
    pending, _ = await _stored(database_url, document_id)
    assert pending.status.value == "pending"

    with served(env, tmp_path, run_worker=True) as worker:

        async def settled() -> bool:
            document, _ = await _stored(database_url, document_id)
            return document.status.value != "pending"

        await wait_for(
            settled,
            deadline_seconds=RESUME_SECONDS,
            poll_seconds=0.2,
            message=lambda: f"the document was never indexed: {worker.log_tail()}",
        )

    document, chunks = await _stored(database_url, document_id)
    assert (document.status.value, document.failure_reason) == ("indexed", None)
    assert chunks == document.chunk_count == 1
    assert len(fake_provider.requests) == 2  # the hung call, then the resumed one
{%- endif %}
