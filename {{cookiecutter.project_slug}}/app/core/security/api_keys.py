"""API key strings: how they are made, recognised and hashed.

A key carries 256 random bits, so a fast SHA-256 digest is a safe thing to store and to
look up by (unlike a password, it cannot be guessed from a dictionary).
"""

from __future__ import annotations

import hashlib
import secrets

# Tells a key from a JWT at a glance, and lets secret scanners find leaked ones.
API_KEY_PREFIX = "ak_"
# How much of a key is kept to show its owner which key is which.
SHOWN_CHARACTERS = 12


def new_api_key() -> str:
    """A fresh key: the prefix, then 43 URL-safe characters (256 random bits)."""
    return f"{API_KEY_PREFIX}{secrets.token_urlsafe(32)}"


def looks_like_api_key(token: str) -> bool:
    """Whether a bearer credential is an API key rather than an access token."""
    return token.startswith(API_KEY_PREFIX)


def hash_api_key(key: str) -> str:
    """The stored form of a key: its SHA-256 digest in hex."""
    return hashlib.sha256(key.encode()).hexdigest()


def shown_part(key: str) -> str:
    """The beginning of a key, safe to list: too short to use."""
    return key[:SHOWN_CHARACTERS]
