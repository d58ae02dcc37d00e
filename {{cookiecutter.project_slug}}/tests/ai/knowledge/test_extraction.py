"""Text out of each supported format, and a clear error for everything else."""

from __future__ import annotations

import pytest

from app.ai.knowledge.extraction import (
    DocumentFormat,
    ExtractionError,
    document_format,
    extract_text,
)
from tests.support.pdf import pdf_with_text


def test_markdown_and_text_pass_through_decoded() -> None:
    assert extract_text("# Title\r\n\r\nCafé".encode(), "text/markdown") == "# Title\n\nCafé"
    assert extract_text(b"\xef\xbb\xbfplain", "text/plain") == "plain"


def test_a_declared_charset_is_honoured() -> None:
    assert extract_text("naïve".encode("latin-1"), "text/plain; charset=ISO-8859-1") == "naïve"


def test_html_keeps_visible_text_and_headings_without_scripts() -> None:
    page = b"""<html><head><title>T</title><style>p {color: red}</style></head>
    <body><h1>Guide</h1><script>alert('x')</script><p>First   paragraph.</p>
    <h2>Setup</h2><ul><li>one</li><li>two</li></ul><noscript>enable js</noscript></body></html>"""

    text = extract_text(page, "text/html; charset=utf-8")

    assert text.splitlines() == [
        "# Guide",
        "",
        "First paragraph.",
        "",
        "## Setup",
        "",
        "- one",
        "- two",
    ]
    assert "alert" not in text
    assert "color" not in text
    assert "enable js" not in text


def test_pdf_text_is_extracted() -> None:
    text = extract_text(pdf_with_text("Knowledge from a PDF page"), "application/pdf")

    assert "Knowledge from a PDF page" in text


@pytest.mark.parametrize(
    ("content", "content_type", "message"),
    [
        (b"%PDF-1.4 broken", "application/pdf", "PDF could not be parsed"),
        (b"not a pdf at all", "application/pdf", "PDF could not be parsed"),
        (b"\xff\xfe\xfa", "text/plain", "not valid utf-8"),
        (b"a\x00b", "text/plain", "looks binary"),
        (b"<p>  </p><script>x()</script>", "text/html", "no text"),
        (b"text", "text/plain; charset=nope", "unknown charset"),
        (b"text", "image/png", "unsupported content type 'image/png'"),
    ],
)
def test_unreadable_documents_are_refused_with_the_reason(
    content: bytes, content_type: str, message: str
) -> None:
    with pytest.raises(ExtractionError, match=message):
        extract_text(content, content_type)


def test_a_pdf_without_text_says_it_needs_ocr() -> None:
    with pytest.raises(ExtractionError, match="OCR"):
        extract_text(pdf_with_text(""), "application/pdf")


def test_content_types_are_matched_loosely() -> None:
    assert document_format("Text/Markdown; charset=utf-8") is DocumentFormat.MARKDOWN
    assert document_format("text/x-markdown") is DocumentFormat.MARKDOWN
    assert document_format("application/xhtml+xml") is DocumentFormat.HTML
