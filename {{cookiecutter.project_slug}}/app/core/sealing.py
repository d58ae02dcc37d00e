"""Encryption at rest for small secrets the service must read back, such as MCP headers.

Fernet (AES with an HMAC) from `cryptography`: a stored value that was altered, or sealed
under another key, fails to open instead of decrypting to garbage.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import TYPE_CHECKING

from app.core.config import Settings

if TYPE_CHECKING:
    from cryptography.fernet import Fernet


class SealError(Exception):
    """A stored secret that cannot be opened: wrong key, or not written by this service."""


class Sealer:
    """Seals and opens JSON-able string mappings under one key."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._fernet_instance: Fernet | None = None

    @property
    def _fernet(self) -> Fernet:
        """Built on first use: most requests never touch a sealed value."""
        if self._fernet_instance is None:
            from cryptography.fernet import Fernet

            self._fernet_instance = Fernet(self._key)
        return self._fernet_instance

    @classmethod
    def from_settings(cls, settings: Settings) -> Sealer:
        """MCP_ENCRYPTION_KEY, or else a key derived from SECRET_KEY."""
        if settings.mcp_encryption_key is not None:
            return cls(settings.mcp_encryption_key.get_secret_value().encode())
        digest = hashlib.sha256(
            b"mcp-headers:" + settings.secret_key.get_secret_value().encode()
        ).digest()
        return cls(base64.urlsafe_b64encode(digest))

    def seal(self, values: dict[str, str]) -> str:
        """The mapping encrypted, as text a column can hold."""
        return self._fernet.encrypt(json.dumps(values).encode()).decode()

    def open(self, sealed: str) -> dict[str, str]:
        """The mapping `seal` encrypted, or `SealError`."""
        from cryptography.fernet import InvalidToken

        try:
            opened = json.loads(self._fernet.decrypt(sealed.encode()))
        except (InvalidToken, ValueError) as exc:
            raise SealError("Stored secret cannot be decrypted with the current key") from exc
        return {str(key): str(value) for key, value in opened.items()}
