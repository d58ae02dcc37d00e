"""Chunks: sized by tokens with overlap, never across headings, each hashed and numbered."""

from __future__ import annotations

import hashlib

import pytest

from app.ai.knowledge.chunking import ChunkingOptions, chunk_text
from app.ai.knowledge.text import content_words, count_tokens

WORDS = " ".join(f"w{n}" for n in range(100))


def test_a_long_section_becomes_overlapping_windows() -> None:
    chunks = chunk_text(
        WORDS, source="s", options=ChunkingOptions(max_tokens=30, overlap_tokens=10)
    )

    assert [chunk.token_count for chunk in chunks] == [30, 30, 30, 30, 20]
    assert chunks[0].text.split()[-10:] == chunks[1].text.split()[:10]
    assert chunks[-1].text.endswith("w99")
    assert [chunk.position for chunk in chunks] == list(range(5))


def test_windows_end_at_a_sentence_when_one_is_near() -> None:
    text = "One two three four five six seven. Eight nine ten eleven twelve."

    chunks = chunk_text(text, source="s", options=ChunkingOptions(max_tokens=9, overlap_tokens=0))

    assert chunks[0].text == "One two three four five six seven."


def test_chunks_keep_their_heading_path_and_never_cross_headings() -> None:
    text = (
        "Intro text.\n# Guide\nGuide text.\n## Install\nInstall text.\n### Linux\n"
        "Linux text.\n## Use\nUse text.\n```\n# not a heading\n```\n# Other\nOther text."
    )

    chunks = chunk_text(text, source="guide.md", options=ChunkingOptions())

    assert [(chunk.heading, chunk.text.splitlines()[0]) for chunk in chunks] == [
        (None, "Intro text."),
        ("Guide", "Guide text."),
        ("Guide > Install", "Install text."),
        ("Guide > Install > Linux", "Linux text."),
        ("Guide > Use", "Use text."),
        ("Other", "Other text."),
    ]
    assert "# not a heading" in chunks[4].text
    assert chunks[3].embedding_text == "Guide > Install > Linux\n\nLinux text."


def test_each_chunk_carries_source_and_content_hash() -> None:
    [chunk] = chunk_text("Some text.", source="notes.txt", options=ChunkingOptions())

    assert chunk.source == "notes.txt"
    assert chunk.content_hash == hashlib.sha256(b"Some text.").hexdigest()


@pytest.mark.parametrize(("size", "overlap"), [(0, 0), (10, 10), (10, -1)])
def test_impossible_sizes_are_refused(size: int, overlap: int) -> None:
    with pytest.raises(ValueError, match="tokens"):
        ChunkingOptions(max_tokens=size, overlap_tokens=overlap)


def test_tokens_are_words_and_punctuation() -> None:
    assert count_tokens("Hello, world! It's 2026.") == 9
    assert content_words("The cat and THE hat") == ["cat", "hat"]
