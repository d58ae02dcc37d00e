"""The hash chain's serialisation: one spelling per entry, whatever order or zone it came in."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from app.core.audit_chain import (
    GENESIS_HASH,
    NO_ORGANIZATION,
    arguments_hash,
    chain_key,
    entry_fields,
    entry_hash,
)

ENTRY_ID = uuid.UUID("00000000-0000-4000-8000-000000000001")
WHEN = datetime(2026, 12, 2, 10, 0, 0, 123456, tzinfo=UTC)


def _fields(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "entry_id": ENTRY_ID,
        "organization_id": None,
        "sequence": 1,
        "previous_hash": GENESIS_HASH,
        "actor_id": None,
        "action": "auth.login",
        "target_type": "user",
        "target_id": "u1",
        "request_id": "r1",
        "client_address": "203.0.113.9",
        "created_at": WHEN,
        "details": {"b": 1, "a": [1, 2]},
    }
    return entry_fields(**(values | changes))


def test_the_hash_ignores_key_order_and_time_zone() -> None:
    elsewhere = WHEN.astimezone(timezone(timedelta(hours=5)))
    reordered = _fields(details={"a": [1, 2], "b": 1}, created_at=elsewhere)

    assert entry_hash(reordered) == entry_hash(_fields())
    assert reordered["created_at"] == "2026-12-02T10:00:00.123456Z"


def test_every_field_and_the_link_change_the_hash() -> None:
    base = entry_hash(_fields())
    changed = [
        _fields(sequence=2),
        _fields(previous_hash="1" * 64),
        _fields(actor_id=uuid.uuid4()),
        _fields(organization_id=uuid.uuid4()),
        _fields(client_address="198.51.100.1"),
        _fields(details={"b": 2, "a": [1, 2]}),
        _fields(created_at=WHEN + timedelta(microseconds=1)),
    ]
    assert base not in {entry_hash(fields) for fields in changed}


def test_arguments_are_hashed_canonically_and_chains_keyed_by_organisation() -> None:
    assert arguments_hash({"x": 1, "y": "é"}) == arguments_hash({"y": "é", "x": 1})
    assert arguments_hash({"x": 1}) != arguments_hash({"x": 2})
    organization = uuid.uuid4()
    assert chain_key(organization) == organization
    assert chain_key(None) == NO_ORGANIZATION
