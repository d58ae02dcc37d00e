"""A document to index, from a multipart upload or from a URL, checked before it is stored.

Size, emptiness and type are checked here, so a bad upload is a 4xx and never a
document. The URL path goes through the `http_fetch` tool's fetcher, which refuses
private and internal addresses at every redirect.
"""

from __future__ import annotations

import posixpath
from urllib.parse import unquote, urlsplit

from fastapi import UploadFile

from app.ai.knowledge.extraction import ExtractionError, document_format
from app.ai.knowledge.repository import DocumentUpload, UnsupportedDocumentError
from app.ai.tools.base import ToolError
from app.ai.tools.builtin.http_fetch import HttpFetchTool
from app.core.errors import PayloadTooLargeError, UnprocessableError

READ_SIZE = 1 << 16
GENERIC_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})
TYPES_BY_EXTENSION = {
    ".txt": "text/plain",
    ".text": "text/plain",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".html": "text/html",
    ".htm": "text/html",
    ".pdf": "application/pdf",
}


def declared_type(content_type: str | None, name: str) -> str:
    """The sender's type, or the file extension's when the sender gave only a generic one."""
    declared = (content_type or "").strip()
    if declared.split(";", 1)[0].strip().lower() in GENERIC_TYPES:
        extension = posixpath.splitext(name.lower())[1]
        return TYPES_BY_EXTENSION.get(extension, declared or "application/octet-stream")
    return declared


def checked(upload: DocumentUpload) -> DocumentUpload:
    """The upload if it can become a document: not empty, and of a supported type."""
    try:
        document_format(upload.content_type)
    except ExtractionError as exc:
        raise UnsupportedDocumentError(f"{upload.source_name}: {exc}") from None
    if not upload.content.strip():
        raise UnsupportedDocumentError(f"{upload.source_name}: the document is empty")
    return upload


async def read_upload(file: UploadFile, *, max_bytes: int) -> DocumentUpload:
    """The uploaded file's bytes, read no further than the cap.

    Raises:
        PayloadTooLargeError: the file is over `max_bytes`.
        UnsupportedDocumentError: it is empty or of an unsupported type.
    """
    name = posixpath.basename((file.filename or "").replace("\\", "/")) or "upload"
    parts: list[bytes] = []
    size = 0
    while part := await file.read(READ_SIZE):
        size += len(part)
        if size > max_bytes:
            raise PayloadTooLargeError(f"{name} is over the {max_bytes}-byte limit for documents")
        parts.append(part)
    content_type = declared_type(file.content_type, name)
    return checked(
        DocumentUpload(source_name=name, content=b"".join(parts), content_type=content_type)
    )


async def fetch_upload(url: str, *, fetcher: HttpFetchTool) -> DocumentUpload:
    """The document at a public URL, no larger than the fetcher's `max_bytes`.

    Raises:
        UnprocessableError: the URL is refused, unreachable, or answers with an error.
        PayloadTooLargeError: the document is over the fetcher's cap.
        UnsupportedDocumentError: it is empty or of an unsupported type.
    """
    max_bytes = fetcher.max_bytes
    try:
        fetched = await fetcher.fetch(url)
    except ToolError as exc:
        raise UnprocessableError(f"Cannot fetch the document: {exc.message}") from None
    if not 200 <= fetched.status_code < 300:
        raise UnprocessableError(
            f"Cannot fetch the document: {fetched.url} answered "
            f"{fetched.status_code} {fetched.reason}"
        )
    if fetched.truncated:
        raise PayloadTooLargeError(
            f"{fetched.url} is over the {max_bytes}-byte limit for documents"
        )
    path = unquote(urlsplit(fetched.url).path)
    name = posixpath.basename(path.rstrip("/")) or urlsplit(fetched.url).hostname or "document"
    return checked(
        DocumentUpload(
            source_name=name,
            content=fetched.body,
            content_type=declared_type(fetched.content_type, name),
            source_url=fetched.url,
        )
    )
