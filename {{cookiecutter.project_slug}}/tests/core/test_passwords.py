"""Password hashing (bcrypt, in a worker thread) and the password policy."""

from __future__ import annotations

import asyncio
import os
import threading

import pytest

from app.core.security import passwords
from app.core.security.passwords import BCRYPT_MAX_BYTES, hash_password, verify_password
from app.schemas.user import check_password_strength
from tests.support.waiting import wait_for


async def test_hash_then_verify() -> None:
    hashed = await hash_password("correct-horse-42")
    assert hashed.startswith("$2b$")
    assert "correct-horse-42" not in hashed
    assert await verify_password("correct-horse-42", hashed)
    assert not await verify_password("wrong-horse-42", hashed)


async def test_hashes_are_salted() -> None:
    assert await hash_password("same-password-1") != await hash_password("same-password-1")


async def test_unknown_account_is_a_mismatch_after_a_real_check() -> None:
    assert not await verify_password("anything-1", None)


@pytest.mark.parametrize("hashed", ["", "plaintext", "$2b$12$tooshort", "$argon2id$v=19$x"])
async def test_malformed_hashes_are_a_mismatch(hashed: str) -> None:
    assert not await verify_password("anything-1", hashed)


async def test_overlong_passwords_are_a_mismatch_not_an_error() -> None:
    hashed = await hash_password("a" * BCRYPT_MAX_BYTES)
    assert await verify_password("a" * BCRYPT_MAX_BYTES, hashed)
    assert not await verify_password("a" * (BCRYPT_MAX_BYTES + 1), hashed)


class _ThreadRecordingContext:
    """Stands in for passlib's context and notes which thread did the work."""

    def __init__(self) -> None:
        self.threads: list[int] = []

    def hash(self, password: str) -> str:
        self.threads.append(threading.get_ident())
        return f"hashed:{password}"

    def verify(self, password: str, hashed: str) -> bool:
        self.threads.append(threading.get_ident())
        return hashed == f"hashed:{password}"


async def test_hashing_and_verifying_run_in_worker_threads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recorder = _ThreadRecordingContext()
    monkeypatch.setattr(passwords, "_context", recorder)
    passwords._dummy_hash.cache_clear()
    try:
        hashed = await hash_password("pw-1")
        assert await verify_password("pw-1", hashed)
        assert not await verify_password("pw-1", None)
    finally:
        passwords._dummy_hash.cache_clear()
    loop_thread = threading.get_ident()
    assert len(recorder.threads) == 4  # hash, verify, dummy hash, dummy verify
    assert loop_thread not in recorder.threads


# --- policy -----------------------------------------------------------------------------


@pytest.mark.parametrize("password", ["abcdefg1", "correct-horse-42", "Ünïcödé-pässwörd-9"])
def test_policy_accepts_reasonable_passwords(password: str) -> None:
    assert check_password_strength(password) == password


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("abc1234", "at least 8 characters"),
        ("abcdefgh", "one letter and one digit"),
        ("12345678", "one letter and one digit"),
        ("a1" * 37, "at most 72 bytes"),
        ("é" * 36 + "1", "at most 72 bytes"),
        (" abcdefg1", "whitespace"),
        ("abcdefg1 ", "whitespace"),
    ],
)
def test_policy_refuses_weak_passwords(password: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        check_password_strength(password)


def test_the_byte_limit_counts_bytes_not_characters() -> None:
    exactly = "é" * 35 + "a1"  # 72 bytes in 37 characters
    assert check_password_strength(exactly) == exactly


class _BlockingContext:
    """Hashes only when released, counting how many hashes run at the same time."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.inside = 0
        self.most_inside = 0

    def hash(self, password: str) -> str:
        with self.lock:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
        self.release.wait(timeout=30)
        with self.lock:
            self.inside -= 1
        return f"hashed:{password}"


async def test_concurrent_hashing_is_bounded_by_the_thread_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    blocking = _BlockingContext()
    monkeypatch.setattr(passwords, "_context", blocking)
    passwords.use_hashing_threads(2)
    try:
        hashes = [asyncio.create_task(hash_password(f"pw-{n}")) for n in range(8)]
        await wait_for(lambda: blocking.inside == 2, message="hashing never started")
        blocking.release.set()
        assert len(await asyncio.gather(*hashes)) == 8
    finally:
        blocking.release.set()
        passwords.use_hashing_threads(None)
    assert blocking.most_inside == 2


def test_the_default_is_one_thread_per_core() -> None:
    passwords.use_hashing_threads(None)
    assert passwords._threads.size == (os.cpu_count() or 1)
