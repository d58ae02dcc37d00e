"""Sealed secrets: they open with the key that sealed them and with no other."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr, ValidationError

from app.core.config import Settings
from app.core.sealing import Sealer, SealError


def test_a_sealed_mapping_opens_and_hides_its_values() -> None:
    sealer = Sealer(Fernet.generate_key())

    sealed = sealer.seal({"Authorization": "Bearer s3cret"})

    assert "s3cret" not in sealed
    assert sealer.open(sealed) == {"Authorization": "Bearer s3cret"}


def test_another_key_or_a_tampered_value_does_not_open() -> None:
    sealed = Sealer(Fernet.generate_key()).seal({"a": "b"})

    with pytest.raises(SealError):
        Sealer(Fernet.generate_key()).open(sealed)
    with pytest.raises(SealError):
        Sealer(Fernet.generate_key()).open("not sealed")


def test_the_key_comes_from_settings(settings: Settings) -> None:
    key = Fernet.generate_key().decode()
    configured = settings.model_copy(update={"mcp_encryption_key": SecretStr(key)})

    sealed = Sealer.from_settings(configured).seal({"a": "b"})

    assert Sealer(key.encode()).open(sealed) == {"a": "b"}
    derived = Sealer.from_settings(settings).seal({"a": "b"})
    assert Sealer.from_settings(settings).open(derived) == {"a": "b"}


def test_a_malformed_key_is_refused_at_start_up() -> None:
    with pytest.raises(ValidationError, match="MCP_ENCRYPTION_KEY"):
        Settings(_env_file=None, mcp_encryption_key=SecretStr("short"))
