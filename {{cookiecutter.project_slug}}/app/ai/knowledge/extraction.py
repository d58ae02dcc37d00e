"""Plain text out of uploaded bytes: text, Markdown, HTML and PDF.

HTML headings come out as Markdown headings, so the chunker keeps the heading path of
every format the same way.
"""

from __future__ import annotations

import codecs
import io
import logging
import re
from enum import StrEnum
from html.parser import HTMLParser
from typing import ClassVar


class DocumentFormat(StrEnum):
    """The formats text is extracted from, by their canonical media type."""

    TEXT = "text/plain"
    MARKDOWN = "text/markdown"
    HTML = "text/html"
    PDF = "application/pdf"


# Other names clients send for the same formats.
_ALIASES = {
    "text/x-markdown": DocumentFormat.MARKDOWN,
    "application/xhtml+xml": DocumentFormat.HTML,
    "application/x-pdf": DocumentFormat.PDF,
}


class ExtractionError(ValueError):
    """The bytes are not a readable document of the declared type; the message says why."""


def document_format(content_type: str) -> DocumentFormat:
    """The format a Content-Type names (parameters such as charset ignored).

    Raises:
        ExtractionError: the type is not one of the supported formats.
    """
    media_type = content_type.split(";", 1)[0].strip().lower()
    try:
        return _ALIASES.get(media_type) or DocumentFormat(media_type)
    except ValueError:
        supported = ", ".join(member.value for member in DocumentFormat)
        raise ExtractionError(
            f"unsupported content type {media_type or '(none)'!r}; supported: {supported}"
        ) from None


def extract_text(content: bytes, content_type: str) -> str:
    """The document's text, with HTML headings rewritten as Markdown ones.

    Raises:
        ExtractionError: unsupported type, undecodable or binary text, a PDF that does not
            parse, or a document with no text at all.
    """
    kind = document_format(content_type)
    if kind is DocumentFormat.PDF:
        text = _pdf_text(content)
    else:
        decoded = _decode(content, _charset(content_type))
        text = _html_text(decoded) if kind is DocumentFormat.HTML else decoded
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise ExtractionError("the document contains no text")
    return text


def _charset(content_type: str) -> str:
    match = re.search(r"charset=\"?([\w.:-]+)", content_type, re.IGNORECASE)
    return match.group(1) if match else "utf-8"


def _decode(content: bytes, charset: str) -> str:
    try:
        codec = codecs.lookup(charset).name
    except LookupError:
        raise ExtractionError(f"unknown charset {charset!r}") from None
    try:
        text = content.decode("utf-8-sig" if codec == "utf-8" else codec)
    except UnicodeDecodeError as exc:
        raise ExtractionError(f"the text is not valid {charset}: {exc.reason}") from None
    if "\x00" in text:
        raise ExtractionError("the file looks binary (it contains NUL characters)")
    return text


def _pdf_text(content: bytes) -> str:
    # pypdf loads with the first PDF, not with the API's routes.
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    # pypdf logs recoverable damage as warnings; a document it cannot read raises below.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(content))
        if reader.is_encrypted:
            raise ExtractionError("the PDF is encrypted")
        pages = [page.extract_text() or "" for page in reader.pages]
    except ExtractionError:
        raise
    except (PyPdfError, ValueError, TypeError, KeyError, AttributeError, OSError) as exc:
        # pypdf raises its own errors for most damage, and plain ones for the rest.
        raise ExtractionError(f"the PDF could not be parsed: {exc or type(exc).__name__}") from None
    text = "\n\n".join(page.strip() for page in pages if page.strip())
    if not text:
        raise ExtractionError("the PDF has no extractable text (scanned pages need OCR first)")
    return text


def _html_text(markup: str) -> str:
    parser = _TextParser()
    parser.feed(markup)
    parser.close()
    return parser.text()


class _TextParser(HTMLParser):
    """Visible text of an HTML page; scripts, styles and other non-content are dropped."""

    _SKIPPED: ClassVar[frozenset[str]] = frozenset(
        {"script", "style", "noscript", "template", "svg", "head"}
    )
    _BLOCKS: ClassVar[frozenset[str]] = frozenset(
        {"p", "div", "section", "article", "main", "header", "footer", "aside", "nav",
         "ul", "ol", "table", "tr", "blockquote", "pre", "br", "hr", "li", "dt", "dd",
         "figure", "figcaption", "form"}
    )  # fmt: skip
    _HEADINGS: ClassVar[dict[str, int]] = {f"h{level}": level for level in range(1, 7)}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._parts: list[str] = []
        self._skipping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIPPED:
            self._skipping.append(tag)
        elif not self._skipping:
            if tag in self._HEADINGS:
                self._parts.append("\n\n" + "#" * self._HEADINGS[tag] + " ")
            elif tag in self._BLOCKS:
                self._parts.append("\n- " if tag == "li" else "\n")

    def handle_endtag(self, tag: str) -> None:
        if self._skipping:
            if tag == self._skipping[-1]:
                self._skipping.pop()
        elif tag in self._HEADINGS:
            self._parts.append("\n\n")
        elif tag in self._BLOCKS and tag != "li":  # the next item starts its own line
            self._parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self._parts.append(re.sub(r"\s+", " ", data))

    def text(self) -> str:
        lines = (line.strip() for line in "".join(self._parts).split("\n"))
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))
