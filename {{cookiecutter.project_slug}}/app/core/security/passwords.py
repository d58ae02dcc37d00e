"""Password hashing with bcrypt, kept off the event loop."""

from __future__ import annotations

from functools import lru_cache

from passlib.context import CryptContext
from starlette.concurrency import run_in_threadpool

# bcrypt only reads the first 72 bytes; longer passwords are refused at the schema.
BCRYPT_MAX_BYTES = 72
_context = CryptContext(schemes=["bcrypt"], deprecated="auto")


def too_short_message(min_length: int) -> str:
    """One wording for the length rule, whether the floor or the configured minimum refused."""
    return f"Password must be at least {min_length} characters long"


async def hash_password(password: str) -> str:
    """Hash in a worker thread: bcrypt is deliberately slow and would stall other requests."""
    return await run_in_threadpool(_hash, password)


async def verify_password(password: str, hashed: str | None) -> bool:
    """Check a password in a worker thread; a malformed hash counts as a mismatch.

    With no hash (an unknown account) a dummy hash is checked anyway, so response
    times do not reveal which emails have accounts.
    """
    return await run_in_threadpool(_verify, password, hashed)


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
