"""Text no database can store: NUL characters and lone UTF-16 surrogates.

PostgreSQL refuses NUL in text and JSONB, and neither database driver can encode a lone
surrogate, so such a string turns into a 500 if it gets that far. Input from clients is
refused (see `app.api.middleware.text_guard`); text from a model, a tool or a fetched
page is cleaned instead, since nobody can be asked to resend it.
"""

from __future__ import annotations

import re
from typing import Any

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable_reason(value: str) -> str | None:
    """Why `value` cannot be stored, or None when it can."""
    match = _UNSTORABLE.search(value)
    if match is None:
        return None
    if match.group() == "\x00":
        return "Text must not contain NUL characters"
    return "Text must be valid Unicode (no lone surrogates)"


def clean_text(value: str) -> str:
    """Drop NUL characters and replace lone surrogates with U+FFFD, keeping everything else."""
    if _UNSTORABLE.search(value) is None:
        return value
    return _UNSTORABLE.sub(lambda match: "" if match.group() == "\x00" else "\ufffd", value)


def truncate_text(value: str, max_bytes: int, *, marker: str = "\n[truncated]") -> str:
    """At most `max_bytes` of UTF-8, cut on a character boundary and marked when cut."""
    encoded = value.encode("utf-8", errors="surrogatepass")
    if len(encoded) <= max_bytes:
        return value
    room = max(max_bytes - len(marker.encode()), 0)
    return encoded[:room].decode("utf-8", errors="ignore") + marker


def clean_json(value: Any) -> Any:
    """`value` with `clean_text` applied to every string and key inside it."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(key)): clean_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [clean_json(item) for item in value]
    return value
