"""Password hashing with bcrypt, kept off the event loop in a few threads of its own.

passlib's hashing context is built by the first hash or check, not at start-up: building
it costs more than the rest of this module's import, and health checks never need it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from passlib.context import CryptContext

# bcrypt only reads the first 72 bytes; longer passwords are refused at the schema.
BCRYPT_MAX_BYTES = 72

T = TypeVar("T")


class _Context:
    """passlib's bcrypt context, built at the first hash or check."""

    @cached_property
    def _built(self) -> CryptContext:
        from passlib.context import CryptContext

        return CryptContext(schemes=["bcrypt"], deprecated="auto")

    def hash(self, secret: str) -> str:
        """A new salted bcrypt hash of `secret`."""
        hashed: str = self._built.hash(secret)
        return hashed

    def verify(self, secret: str, hashed: str) -> bool:
        """Whether `secret` matches `hashed`; ValueError for a hash it cannot read."""
        return bool(self._built.verify(secret, hashed))


_context = _Context()


class _HashingThreads:
    """At most one bcrypt per core at a time: a burst of sign-ins queues here.

    More threads than cores would not hash faster; they would only compete with the event
    loop's thread for the CPU and stall every other request.
    """

    def __init__(self) -> None:
        self.size = 0
        self._executor: ThreadPoolExecutor | None = None

    def resize(self, size: int | None) -> None:
        """Use `size` threads from now on (None: one per core); work under way finishes."""
        size = size or os.cpu_count() or 1
        if size == self.size:
            return
        self.size = size
        previous, self._executor = self._executor, None
        if previous is not None:
            previous.shutdown(wait=False)

    def executor(self) -> ThreadPoolExecutor:
        """The pool, started on first use."""
        if self._executor is None:
            if not self.size:
                self.resize(None)
            self._executor = ThreadPoolExecutor(self.size, thread_name_prefix="bcrypt")
        return self._executor


_threads = _HashingThreads()


def use_hashing_threads(size: int | None) -> None:
    """Hash at most `size` passwords at once (PASSWORD_HASH_THREADS; None: one per core)."""
    _threads.resize(size)


def too_short_message(min_length: int) -> str:
    """One wording for the length rule, whether the floor or the configured minimum refused."""
    return f"Password must be at least {min_length} characters long"


async def hash_password(password: str) -> str:
    """Hash in a hashing thread: bcrypt is deliberately slow and would stall other requests."""
    return await _off_loop(_hash, password)


async def verify_password(password: str, hashed: str | None) -> bool:
    """Check a password in a hashing thread; a malformed hash counts as a mismatch.

    With no hash (an unknown account) a dummy hash is checked anyway, so response
    times do not reveal which emails have accounts.
    """
    return await _off_loop(_verify, password, hashed)


async def _off_loop(function: Callable[..., T], *args: object) -> T:
    return await asyncio.get_running_loop().run_in_executor(_threads.executor(), function, *args)


def _hash(password: str) -> str:
    hashed: str = _context.hash(password)
    return hashed


def _verify(password: str, hashed: str | None) -> bool:
    try:
        if hashed is None:
            _context.verify(password, _dummy_hash())
            return False
        return bool(_context.verify(password, hashed))
    except ValueError:
        # Unknown hash formats and over-long passwords land here.
        return False


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hash("not-a-real-password-0")
