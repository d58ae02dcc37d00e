"""Secrets and personal data scrubbed from every log line, whoever wrote it.

Parameters are already kept out at the source (engines run with `hide_parameters`,
settings errors hide their input); this is the net under that: whatever a library
puts in a message or a traceback passes through here before it is written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

from pydantic import SecretStr

# Shorter values are too likely to occur by chance to be replaced everywhere.
MIN_SECRET_LENGTH = 8

# Each pattern with the text (lower case) every one of its matches contains: a line with
# none of these markers and no known secret is passed on without running the patterns.
_PATTERNS: list[tuple[re.Pattern[str], str, tuple[str, ...]]] = [
    # bcrypt hashes, as passlib writes them.
    (re.compile(r"\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}"), "[hash]", ("$2",)),
    # JSON Web Tokens: a base64url JSON header, a payload and a signature.
    (re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), "[token]", ("eyj",)),
    (
        re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"),
        r"\1 [redacted]",
        ("bearer", "basic"),
    ),
    # Vendors' API keys.
    (re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"), "[api-key]", ("sk-",)),
    (re.compile(r"\bAIza[0-9A-Za-z_-]{30,}"), "[api-key]", ("aiza",)),
    # The password of a URL: scheme://user:password@host.
    (
        re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s/]+@"),
        r"\1[redacted]@",
        ("://",),
    ),
    # PostgreSQL's DETAIL quotes row values: Key (email)=(ada@example.com) already exists.
    (re.compile(r"(?m)^(\s*DETAIL:).*$"), r"\1 [redacted]", ("detail:",)),
    # asyncpg quotes a value it could not encode.
    (
        re.compile(r"(invalid input for query argument \$\d+:).*"),
        r"\1 [redacted]",
        ("invalid input for query argument",),
    ),
    # SQLAlchemy's parameter dump, should an engine ever run without hide_parameters.
    (re.compile(r"\[parameters: [^\n]*"), "[parameters: redacted]", ("[parameters: ",)),
]
_MARKERS = tuple(marker for _pattern, _replacement, markers in _PATTERNS for marker in markers)
# Types that hold no text, which the fast path can pass over.
_SCALARS = frozenset({int, float, bool, type(None)})


def known_secrets(values: Mapping[str, Any]) -> list[str]:
    """The secret values among `values` (settings fields), to be replaced wherever seen."""
    found = []
    for value in values.values():
        if isinstance(value, SecretStr):
            secret = value.get_secret_value()
            if len(secret) >= MIN_SECRET_LENGTH:
                found.append(secret)
    return found


class Redactor:
    """A structlog processor: every string in the event, the traceback included, is cleaned."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        """`secrets` are replaced literally (the signing key, API keys), longest first."""
        self._secrets = sorted(set(secrets), key=len, reverse=True)

    def __call__(
        self, _logger: Any, _method: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        """Scrub the event dict in place, as structlog processors do."""
        strings = []
        for value in event.values():
            kind = value.__class__
            if kind is str:
                strings.append(value)
            elif kind not in _SCALARS:
                break  # containers and objects take the thorough path
        else:
            if not self.may_hold_secret("\n".join(strings)):
                return event  # the common line: nothing to scrub, checked in one pass
        for key, value in event.items():
            event[key] = self._clean(value)
        return event

    def may_hold_secret(self, text: str) -> bool:
        """False when `text` holds no known secret and nothing any pattern could match."""
        return any(map(text.__contains__, self._secrets)) or any(
            map(text.lower().__contains__, _MARKERS)
        )

    def redact(self, text: str) -> str:
        """`text` with every secret and every known secret-shaped value replaced."""
        if not self.may_hold_secret(text):
            return text
        for secret in self._secrets:
            text = text.replace(secret, "[secret]")
        for pattern, replacement, _markers in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def _clean(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {key: self._clean(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self._clean(item) for item in value)
        return value
