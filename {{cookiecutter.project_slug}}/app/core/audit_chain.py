"""The audit log's hash chain: what an entry's hash covers, and how it is computed.

An entry's hash is SHA-256 over the sorted-key JSON of every field it stores, the hash of
the entry before it in its chain and its sequence number included, so changing, removing
or reordering any stored entry changes a hash that a later entry or the chain's head names.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

# What the first entry of a chain names as the hash before it.
GENESIS_HASH = "0" * 64
# The chain of entries with no organisation is keyed by the nil UUID.
NO_ORGANIZATION = uuid.UUID(int=0)


def chain_key(organization_id: uuid.UUID | None) -> uuid.UUID:
    """The key of an organisation's chain; entries with none form a chain of their own."""
    return organization_id if organization_id is not None else NO_ORGANIZATION


def canonical_json(value: Any) -> str:
    """One spelling of a JSON value: sorted keys, no spaces, ASCII only."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def arguments_hash(arguments: Any) -> str:
    """A digest of a tool call's arguments, so the log proves them without holding them."""
    return hashlib.sha256(canonical_json(arguments).encode()).hexdigest()


def _text(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


def _timestamp(value: datetime) -> str:
    """The same text for the same instant, whatever zone or driver it came back in."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_fields(
    *,
    entry_id: uuid.UUID,
    organization_id: uuid.UUID | None,
    sequence: int,
    previous_hash: str,
    actor_id: uuid.UUID | None,
    action: str,
    target_type: str | None,
    target_id: str | None,
    request_id: str | None,
    client_address: str | None,
    created_at: datetime,
    details: dict[str, Any],
) -> dict[str, Any]:
    """Every stored field of an entry but its own hash, as the hash sees them."""
    return {
        "id": str(entry_id),
        "organization_id": _text(organization_id),
        "sequence": sequence,
        "previous_hash": previous_hash,
        "actor_id": _text(actor_id),
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "request_id": request_id,
        "client_address": client_address,
        "created_at": _timestamp(created_at),
        "details": details,
    }


def entry_hash(fields: dict[str, Any]) -> str:
    """The entry's own hash, over its canonical serialisation."""
    return hashlib.sha256(canonical_json(fields).encode()).hexdigest()
