"""Which errors mean "a service the request depends on is away", as opposed to a bug.

They answer 503 with Retry-After, end a run as `unavailable` without quoting the cause,
and are the errors worth retrying; every other exception is a fault to fix.
"""

from __future__ import annotations

from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from app.core.store import StoreUnavailableError

# OSError covers a refused or reset connection that a driver raises unwrapped.
OUTAGE_ERRORS: tuple[type[Exception], ...] = (
    OperationalError,
    InterfaceError,
    DisconnectionError,
    PoolTimeoutError,
    StoreUnavailableError,
    OSError,
)
