"""Documents in the active organisation's knowledge bases: upload, status, removal."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Response, UploadFile, status

from app.ai.knowledge import repository
from app.ai.tools.builtin.http_fetch import HttpFetchTool
from app.api.access import Access, require
from app.api.deps import (
    DatabaseDep,
    EmbeddersDep,
    IngestionDep,
    PaginationDep,
    SessionDep,
    SettingsDep,
)
from app.api.documents import fetch_upload, read_upload
from app.api.error_responses import THROTTLED
from app.api.user_limits import UploadLimit
from app.api.v1.resources import DocumentDep, KnowledgeBaseDep
from app.core.errors import UnprocessableError
from app.models import DocumentStatus, KnowledgeDocument
from app.schemas.common import ErrorBody, Page
from app.schemas.knowledge import DocumentRead

router = APIRouter(prefix="/knowledge-bases/{base_id}/documents", tags=["knowledge"])

CanRead = Annotated[Access, require("knowledge:read")]
CanWrite = Annotated[Access, require("knowledge:write")]

UPLOAD_RESPONSES = {
    status.HTTP_200_OK: {
        "model": DocumentRead,
        "description": "The same bytes are already in this base: that document, unchanged",
    },
    status.HTTP_400_BAD_REQUEST: {
        "model": ErrorBody,
        "description": "The multipart body could not be parsed",
    },
}


@router.post(
    "",
    response_model=DocumentRead,
    status_code=status.HTTP_202_ACCEPTED,
    responses={**UPLOAD_RESPONSES, **THROTTLED},  # type: ignore[dict-item]
)
async def add_document(
    _access: CanWrite,
    _limit: UploadLimit,
    base: KnowledgeBaseDep,
    response: Response,
    database: DatabaseDep,
    embedders: EmbeddersDep,
    ingestion: IngestionDep,
    settings: SettingsDep,
    file: Annotated[UploadFile | None, File(description="Text, Markdown, HTML or PDF")] = None,
    url: Annotated[
        str | None,
        Form(
            max_length=2048,
            pattern=r"^[^\x00-\x1f\x7f]+$",  # no control characters, NUL included
            description="Or a public http(s) URL to fetch",
        ),
    ] = None,
) -> KnowledgeDocument:
    """Add a document, from a file or a URL; it is `pending` until indexed in the background.

    Poll the document until its status is `indexed`, or `failed` with the reason.
    """
    if (file is None) == (url is None):
        raise UnprocessableError("Send either a file or a url, not both and not neither")
    embedder = embedders.get()
    repository.check_embedder(base, embedder)
    limit = settings.knowledge_upload_max_bytes
    if file is not None:
        upload = await read_upload(file, max_bytes=limit)
    else:
        fetcher = HttpFetchTool(max_bytes=limit, timeout_seconds=settings.tool_timeout_seconds)
        upload = await fetch_upload(url or "", fetcher=fetcher)
    # Committed before the job is queued, so the job finds the pending document.
    async with database.transaction() as session:
        document, needs_indexing = await repository.add_document(
            session, organization_id=base.organization_id, base_id=base.id, upload=upload
        )
    if needs_indexing:
        await ingestion.submit(
            organization_id=base.organization_id, document_id=document.id, content=upload.content
        )
    else:
        response.status_code = status.HTTP_200_OK
    return document


@router.get("", response_model=Page[DocumentRead])
async def list_documents(
    _: CanRead,
    base: KnowledgeBaseDep,
    session: SessionDep,
    page: PaginationDep,
    status_filter: Annotated[
        DocumentStatus | None, Query(alias="status", description="Only this status")
    ] = None,
) -> Page[DocumentRead]:
    """The base's documents, newest first, each with its indexing status."""
    documents, total = await repository.list_documents(
        session,
        organization_id=base.organization_id,
        base_id=base.id,
        skip=page.skip,
        limit=page.limit,
        status=status_filter,
    )
    return Page[DocumentRead].of(documents, total, page)


@router.get("/{document_id}", response_model=DocumentRead)
async def read_document(_: CanRead, document: DocumentDep) -> KnowledgeDocument:
    """One document and its status: `pending`, `indexed`, or `failed` with the reason."""
    return document


@router.delete("/{document_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_document(
    _: CanWrite, base: KnowledgeBaseDep, document: DocumentDep, session: SessionDep
) -> None:
    """Delete the document and its chunks; search stops finding them at once."""
    await repository.delete_document(
        session, organization_id=base.organization_id, document_id=document.id
    )
