"""Documents from URLs: fetched through the guarded fetcher, checked like uploads.

The network is faked (a resolver table and an in-memory transport); the fetcher and
the checks are the real ones.
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx
import pytest

from app.ai.knowledge.repository import UnsupportedDocumentError
from app.ai.tools.builtin.http_fetch import HttpFetchTool
from app.api.documents import declared_type, fetch_upload
from app.core.errors import PayloadTooLargeError, UnprocessableError
from tests.support.pdf import pdf_with_text

HOST = "docs.example"
PAGES: dict[str, tuple[int, str, bytes]] = {
    "/handbook/leave.md": (200, "text/markdown; charset=utf-8", b"# Leave\n25 days."),
    "/files/manual.pdf": (200, "application/octet-stream", pdf_with_text("Manual")),
    "/missing.md": (404, "text/plain", b"not here"),
    "/big.txt": (200, "text/plain", b"x" * 5_000),
    "/empty.txt": (200, "text/plain", b""),
    "/sheet": (200, "application/vnd.ms-excel", b"cells"),
}


async def _resolve(host: str, _port: int) -> Sequence[str]:
    if host != HOST:
        raise OSError(f"cannot resolve {host}")
    return ["93.184.216.34"]


def _serve(request: httpx.Request) -> httpx.Response:
    status, content_type, body = PAGES.get(request.url.path, (404, "text/plain", b""))
    return httpx.Response(status, headers={"Content-Type": content_type}, content=body)


def _fetcher(max_bytes: int = 1_000_000) -> HttpFetchTool:
    return HttpFetchTool(
        max_bytes=max_bytes,
        timeout_seconds=5.0,
        resolver=_resolve,
        transport=httpx.MockTransport(_serve),
    )


async def test_a_document_at_a_url_keeps_its_name_type_and_address() -> None:
    upload = await fetch_upload(f"https://{HOST}/handbook/leave.md", fetcher=_fetcher())

    assert upload.source_name == "leave.md"
    assert upload.content_type.startswith("text/markdown")
    assert upload.source_url == f"https://{HOST}/handbook/leave.md"
    assert upload.content == b"# Leave\n25 days."


async def test_a_generic_type_is_read_from_the_urls_extension() -> None:
    upload = await fetch_upload(f"https://{HOST}/files/manual.pdf", fetcher=_fetcher())

    assert upload.content_type == "application/pdf"


async def test_an_error_answer_is_422_with_the_status() -> None:
    with pytest.raises(UnprocessableError, match="404"):
        await fetch_upload(f"https://{HOST}/missing.md", fetcher=_fetcher())


async def test_a_document_over_the_cap_is_413() -> None:
    with pytest.raises(PayloadTooLargeError, match="1024-byte limit"):
        await fetch_upload(f"https://{HOST}/big.txt", fetcher=_fetcher(max_bytes=1024))


@pytest.mark.parametrize(
    ("path", "reason"), [("/empty.txt", "empty"), ("/sheet", "unsupported content type")]
)
async def test_empty_or_unsupported_documents_are_refused(path: str, reason: str) -> None:
    with pytest.raises(UnsupportedDocumentError, match=reason):
        await fetch_upload(f"https://{HOST}{path}", fetcher=_fetcher())


async def test_an_unresolvable_host_is_422() -> None:
    with pytest.raises(UnprocessableError, match="resolve"):
        await fetch_upload("https://nowhere.example/a.md", fetcher=_fetcher())


@pytest.mark.parametrize(
    ("declared", "name", "expected"),
    [
        ("text/html", "page.md", "text/html"),
        ("application/octet-stream", "notes.MD", "text/markdown"),
        ("", "report.pdf", "application/pdf"),
        ("", "archive.zip", "application/octet-stream"),
    ],
)
def test_the_declared_type_wins_unless_it_is_generic(
    declared: str, name: str, expected: str
) -> None:
    assert declared_type(declared, name) == expected
