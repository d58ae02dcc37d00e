"""Documents over HTTP: accepted at once, indexed in the background, refused clearly when bad."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
from fastapi import FastAPI

from app.ai.knowledge import repository
from app.ai.knowledge.background import INTERRUPTED
from app.ai.knowledge.repository import DocumentUpload
from app.core.config import Settings
from app.db.session import Database
from app.db.types import utc_now
from app.models import KnowledgeChunk, KnowledgeDocument
from tests.support.builders import Builder
from tests.support.factories import SignedInUser
from tests.support.knowledge import BASES, create_base, indexed, settled, upload
from tests.support.pdf import pdf_with_text

HANDBOOK = b"# Leave\nEmployees get twenty-five days of paid leave a year.\n"


async def test_an_upload_is_pending_then_indexed_with_its_chunks(
    client: httpx.AsyncClient, me: SignedInUser, build: Builder
) -> None:
    base = await create_base(client, me.headers)

    response = await upload(client, me.headers, base["id"], HANDBOOK, name="leave.md")
    document = await settled(client, me.headers, base["id"], response.json()["id"])

    assert response.status_code == 202, response.text
    assert response.json()["status"] in ("pending", "indexed")
    assert document["status"] == "indexed"
    assert document["source_name"] == "leave.md"
    assert document["chunk_count"] == 1
    assert document["failure_reason"] is None
    assert await build.count(KnowledgeChunk) == 1


async def test_the_same_bytes_twice_are_one_document(
    client: httpx.AsyncClient, me: SignedInUser, build: Builder
) -> None:
    base = await create_base(client, me.headers)
    first = await indexed(client, me.headers, base["id"], HANDBOOK)

    again = await upload(client, me.headers, base["id"], HANDBOOK, name="copy.md")

    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    assert await build.count(KnowledgeDocument) == 1
    assert await build.count(KnowledgeChunk) == 1


async def test_a_pdf_and_an_html_page_are_indexed(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    base = await create_base(client, me.headers)

    pdf = await indexed(
        client,
        me.headers,
        base["id"],
        pdf_with_text("Parking permits are issued by reception."),
        name="parking.pdf",
        content_type="application/pdf",
    )
    html = await indexed(
        client,
        me.headers,
        base["id"],
        b"<html><body><h1>Lunch</h1><p>The canteen opens at noon.</p></body></html>",
        name="lunch.html",
        content_type="text/html",
    )
    found = await client.post(
        f"{BASES}/{base['id']}/search", json={"query": "parking permits"}, headers=me.headers
    )

    assert pdf["content_type"] == "application/pdf"
    assert html["chunk_count"] == 1
    assert found.json()["results"][0]["source"] == "parking.pdf"


async def test_a_generic_type_is_read_from_the_file_extension(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    base = await create_base(client, me.headers)

    document = await indexed(
        client,
        me.headers,
        base["id"],
        HANDBOOK,
        name="leave.md",
        content_type="application/octet-stream",
    )

    assert document["content_type"] == "text/markdown"


async def test_a_pdf_that_cannot_be_parsed_fails_with_the_reason_and_no_chunks(
    client: httpx.AsyncClient, me: SignedInUser, build: Builder
) -> None:
    base = await create_base(client, me.headers)

    response = await upload(
        client,
        me.headers,
        base["id"],
        b"%PDF-1.4\nthis is not really a PDF",
        name="broken.pdf",
        content_type="application/pdf",
    )
    document = await settled(client, me.headers, base["id"], response.json()["id"])

    assert document["status"] == "failed"
    assert "PDF" in document["failure_reason"]
    assert document["chunk_count"] == 0
    assert await build.count(KnowledgeChunk) == 0


async def test_an_empty_file_is_refused(
    client: httpx.AsyncClient, me: SignedInUser, build: Builder
) -> None:
    base = await create_base(client, me.headers)

    response = await upload(client, me.headers, base["id"], b"  \n", name="empty.md")

    assert response.status_code == 422
    assert "empty" in response.json()["detail"]
    assert await build.count(KnowledgeDocument) == 0


async def test_an_unsupported_type_is_refused_naming_the_supported_ones(
    client: httpx.AsyncClient, me: SignedInUser, build: Builder
) -> None:
    base = await create_base(client, me.headers)

    response = await upload(
        client,
        me.headers,
        base["id"],
        b"PK\x03\x04",
        name="sheet.xlsx",
        content_type="application/zip",
    )

    assert response.status_code == 422
    assert "application/pdf" in response.json()["detail"]
    assert await build.count(KnowledgeDocument) == 0


async def test_a_file_over_the_document_limit_is_413(
    client: httpx.AsyncClient, me: SignedInUser, build: Builder, settings: Settings
) -> None:
    base = await create_base(client, me.headers)
    too_big = b"a" * (settings.knowledge_upload_max_bytes + 1)

    response = await upload(client, me.headers, base["id"], too_big, content_type="text/plain")

    assert response.status_code == 413
    assert "limit" in response.json()["detail"]
    assert await build.count(KnowledgeDocument) == 0


async def test_a_declared_body_far_over_the_limit_is_413_before_it_is_read(
    client: httpx.AsyncClient, me: SignedInUser, settings: Settings
) -> None:
    base = await create_base(client, me.headers)
    declared = 50_000_000

    response = await client.post(
        f"{BASES}/{base['id']}/documents",
        content=b"x" * 1024,
        headers={
            **me.headers,
            "Content-Type": "multipart/form-data; boundary=x",
            "Content-Length": str(declared),
        },
    )

    assert declared > settings.knowledge_upload_max_bytes
    assert response.status_code == 413


async def test_a_url_the_fetcher_refuses_is_422_and_stores_nothing(
    client: httpx.AsyncClient, me: SignedInUser, build: Builder
) -> None:
    base = await create_base(client, me.headers)

    response = await client.post(
        f"{BASES}/{base['id']}/documents",
        data={"url": "http://127.0.0.1:9/secrets.md"},
        headers=me.headers,
    )

    assert response.status_code == 422
    assert "non-public address" in response.json()["detail"]
    assert await build.count(KnowledgeDocument) == 0


async def test_neither_file_nor_url_is_refused(client: httpx.AsyncClient, me: SignedInUser) -> None:
    base = await create_base(client, me.headers)

    response = await client.post(
        f"{BASES}/{base['id']}/documents", data={"note": "nothing"}, headers=me.headers
    )

    assert response.status_code == 422


async def test_documents_are_listed_by_status_and_deleted_with_their_chunks(
    client: httpx.AsyncClient, me: SignedInUser, build: Builder
) -> None:
    base = await create_base(client, me.headers)
    good = await indexed(client, me.headers, base["id"], HANDBOOK)
    broken = await upload(
        client,
        me.headers,
        base["id"],
        b"%PDF-1.4 nope",
        name="x.pdf",
        content_type="application/pdf",
    )
    await settled(client, me.headers, base["id"], broken.json()["id"])

    failed = await client.get(
        f"{BASES}/{base['id']}/documents", params={"status": "failed"}, headers=me.headers
    )
    deleted = await client.delete(
        f"{BASES}/{base['id']}/documents/{good['id']}", headers=me.headers
    )

    assert [item["id"] for item in failed.json()["items"]] == [broken.json()["id"]]
    assert deleted.status_code == 204
    assert await build.count(KnowledgeChunk) == 0


async def test_a_document_is_not_reachable_through_another_base(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    first = await create_base(client, me.headers, "first")
    second = await create_base(client, me.headers, "second")
    document = await indexed(client, me.headers, first["id"], HANDBOOK)

    response = await client.get(
        f"{BASES}/{second['id']}/documents/{document['id']}", headers=me.headers
    )

    assert response.status_code == 404


async def _pending(
    database: Database, base: dict[str, str], *, age: timedelta
) -> KnowledgeDocument:
    """A document stored as an upload would store it, `age` ago, with no job queued."""
    async with database.transaction() as session:
        document, _ = await repository.add_document(
            session,
            organization_id=uuid.UUID(base["organization_id"]),
            base_id=uuid.UUID(base["id"]),
            upload=DocumentUpload("leave.md", HANDBOOK, "text/markdown"),
        )
        document.updated_at = utc_now() - age
    return document


async def test_the_sweep_fails_a_pending_document_whose_job_was_lost(
    app: FastAPI, client: httpx.AsyncClient, me: SignedInUser, database: Database
) -> None:
    base = await create_base(client, me.headers)
    lost = await _pending(database, base, age=timedelta(minutes=5))

    await app.state.ingestion.sweep()

    document = await client.get(f"{BASES}/{base['id']}/documents/{lost.id}", headers=me.headers)
    assert document.json()["status"] == "failed"
    assert document.json()["failure_reason"] == INTERRUPTED
    again = await upload(client, me.headers, base["id"], HANDBOOK)
    assert again.status_code == 202
    assert (await settled(client, me.headers, base["id"], str(lost.id)))["status"] == "indexed"


async def test_the_sweep_leaves_a_document_whose_upload_has_just_been_stored(
    app: FastAPI, client: httpx.AsyncClient, me: SignedInUser, database: Database
) -> None:
    base = await create_base(client, me.headers)
    fresh = await _pending(database, base, age=timedelta(0))

    await app.state.ingestion.sweep()

    document = await client.get(f"{BASES}/{base['id']}/documents/{fresh.id}", headers=me.headers)
    assert document.json()["status"] == "pending"


async def test_a_document_left_pending_by_a_crash_is_indexed_when_uploaded_again(
    client: httpx.AsyncClient, me: SignedInUser, database: Database
) -> None:
    base = await create_base(client, me.headers)
    async with database.transaction() as session:
        document, _ = await repository.add_document(
            session,
            organization_id=uuid.UUID(base["organization_id"]),
            base_id=uuid.UUID(base["id"]),
            upload=DocumentUpload("leave.md", HANDBOOK, "text/markdown"),
        )
        document.updated_at = utc_now() - repository.STALE_PENDING - timedelta(minutes=1)

    again = await upload(client, me.headers, base["id"], HANDBOOK)
    settled_again = await settled(client, me.headers, base["id"], again.json()["id"])

    assert again.status_code == 202
    assert again.json()["id"] == str(document.id)
    assert settled_again["status"] == "indexed"
