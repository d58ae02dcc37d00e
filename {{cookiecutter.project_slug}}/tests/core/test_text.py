"""Text no database stores is named when refused and cleaned when it cannot be refused."""

from __future__ import annotations

from app.core.text import clean_json, clean_text, truncate_text, unstorable_reason


def test_names_why_text_cannot_be_stored() -> None:
    assert unstorable_reason("fine ✓") is None
    assert unstorable_reason("a\x00b") == "Text must not contain NUL characters"
    assert unstorable_reason("a\ud800b") == "Text must be valid Unicode (no lone surrogates)"


def test_cleaning_drops_nul_and_replaces_lone_surrogates_only() -> None:
    assert clean_text("a\x00b\udc00c 😀") == "ab\ufffdc 😀"
    assert clean_json({"k\x00": ["v\ud800", 1, None]}) == {"k": ["v\ufffd", 1, None]}


def test_truncation_keeps_whole_characters_and_marks_the_cut() -> None:
    text = "é" * 100  # two bytes each

    cut = truncate_text(text, 51, marker="…")

    assert len(cut.encode()) <= 51
    assert cut.endswith("…")
    assert cut.rstrip("…") == "é" * 24
    assert truncate_text("short", 51) == "short"
