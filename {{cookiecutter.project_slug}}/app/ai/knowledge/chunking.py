"""Documents split into overlapping chunks of about N tokens, each under its heading path.

A chunk never spans two sections, so the heading it carries ("Guide > Install > Linux")
is true for all of its text. Within a section, windows of `max_tokens` overlap by
`overlap_tokens`, and a window ends at a sentence or paragraph break when one falls in
its last quarter, so chunks rarely stop mid-sentence. Token counts follow `text.py`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass

from app.ai.knowledge.text import TOKEN
from app.core.config import Settings

HEADING_SEPARATOR = " > "
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_FENCE = re.compile(r"^(```|~~~)")
_SENTENCE_END = frozenset(".!?")


@dataclass(frozen=True, slots=True)
class ChunkingOptions:
    """Chunk size and overlap in (approximate) tokens."""

    max_tokens: int = 300
    overlap_tokens: int = 50

    def __post_init__(self) -> None:
        if self.max_tokens < 1:
            raise ValueError("max_tokens must be at least 1")
        if not 0 <= self.overlap_tokens < self.max_tokens:
            raise ValueError("overlap_tokens must be at least 0 and below max_tokens")

    @classmethod
    def from_settings(cls, settings: Settings) -> ChunkingOptions:
        """The sizes KNOWLEDGE_CHUNK_TOKENS and KNOWLEDGE_CHUNK_OVERLAP set."""
        return cls(settings.knowledge_chunk_tokens, settings.knowledge_chunk_overlap)


@dataclass(frozen=True, slots=True)
class Chunk:
    """One retrievable piece of a document, and where it came from."""

    source: str
    position: int
    text: str
    heading: str | None
    token_count: int
    content_hash: str

    @property
    def embedding_text(self) -> str:
        """What gets embedded: the heading path gives a short chunk its context."""
        return f"{self.heading}\n\n{self.text}" if self.heading else self.text


@dataclass(frozen=True, slots=True)
class _Section:
    headings: tuple[str, ...]
    text: str


def chunk_text(text: str, *, source: str, options: ChunkingOptions) -> list[Chunk]:
    """Split extracted text (Markdown headings understood) into numbered chunks."""
    chunks: list[Chunk] = []
    for section in _sections(text):
        heading = HEADING_SEPARATOR.join(section.headings) or None
        for piece, tokens in _windows(section.text, options):
            chunks.append(
                Chunk(
                    source=source,
                    position=len(chunks),
                    text=piece,
                    heading=heading,
                    token_count=tokens,
                    content_hash=hashlib.sha256(piece.encode()).hexdigest(),
                )
            )
    return chunks


def _sections(text: str) -> Iterator[_Section]:
    """Runs of text between headings, each with the path of headings above it."""
    path: list[tuple[int, str]] = []
    lines: list[str] = []
    in_fence = False

    def flush() -> Iterator[_Section]:
        body = "\n".join(lines).strip()
        lines.clear()
        if body:
            yield _Section(tuple(title for _, title in path), body)

    for line in text.split("\n"):
        if _FENCE.match(line.strip()):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line.strip())
        if match is None:
            lines.append(line)
            continue
        yield from flush()
        level = len(match.group(1))
        while path and path[-1][0] >= level:
            path.pop()
        path.append((level, match.group(2).strip()))
    yield from flush()


def _windows(text: str, options: ChunkingOptions) -> Iterator[tuple[str, int]]:
    """Overlapping token windows over one section, as (text, token count)."""
    spans = [match.span() for match in TOKEN.finditer(text)]
    start = 0
    while start < len(spans):
        end = min(start + options.max_tokens, len(spans))
        if end < len(spans):
            end = _break_before(text, spans, start, end)
        yield text[spans[start][0] : spans[end - 1][1]], end - start
        if end == len(spans):
            return
        start = max(end - options.overlap_tokens, start + 1)


def _break_before(text: str, spans: list[tuple[int, int]], start: int, end: int) -> int:
    """The window's end moved back to a sentence or paragraph break in its last quarter."""
    earliest = start + max(1, (end - start) * 3 // 4)
    for index in range(end - 1, earliest - 1, -1):
        token_end = spans[index][1]
        if text[token_end - 1] in _SENTENCE_END or text.startswith("\n\n", token_end):
            return index + 1
    return end
