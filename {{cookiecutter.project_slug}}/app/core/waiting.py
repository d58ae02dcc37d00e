"""Waiting for a dependency at start-up: bounded attempts, doubling waits with jitter.

The database and Redis both wait through here, so they log and give up alike: one
warning per failed attempt (which dependency, attempt n of N, the next wait, the error
class) and, once every attempt failed, one error whose message is the line to print.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

import structlog

logger = structlog.get_logger(__name__)


class DependencyUnreachableError(Exception):
    """Start-up could not reach a dependency; the message is the one line to print."""


@dataclass(frozen=True, slots=True)
class Backoff:
    """How often to try and how long to wait in between: doubling, capped, with jitter.

    The delay starts at `first_seconds` and doubles up to `longest_seconds`; each wait is
    drawn at random between half and all of it, so replicas that start together (a
    rollout, a node restart) do not retry in step against a dependency that is coming up.
    """

    attempts: int
    first_seconds: float
    longest_seconds: float

    def waits(self, rng: random.Random | None = None) -> Iterator[float]:
        """The wait before each attempt after the first: `attempts - 1` of them."""
        draw = rng or random.SystemRandom()
        delay = self.first_seconds
        for _ in range(self.attempts - 1):
            capped = min(delay, self.longest_seconds)
            yield draw.uniform(capped / 2, capped)
            delay *= 2


def error_class(error: BaseException) -> str:
    """The name of the error that caused `error`, as drivers wrap a refused socket."""
    if isinstance(error, TimeoutError):
        return "TimeoutError"
    while isinstance(cause := error.__cause__ or error.__context__, Exception):
        error = cause
    return type(error).__name__


async def wait_until_reachable(
    dependency: str,
    attempt: Callable[[], Awaitable[object]],
    backoff: Backoff,
    *,
    location: str,
    outages: tuple[type[Exception], ...],
    attempt_timeout_seconds: float,
    give_up: Callable[[str], DependencyUnreachableError],
    rng: random.Random | None = None,
) -> None:
    """Call `attempt` until it returns, retrying `outages`; raise `give_up(reason)` at the end.

    Any other error is a mistake no wait will mend (a wrong password, say) and propagates
    at once. An attempt that overruns `attempt_timeout_seconds` counts as failed.

    Raises:
        DependencyUnreachableError: from `give_up`, when every attempt failed.
    """
    retried: tuple[type[Exception], ...] = (*outages, TimeoutError)
    waits = backoff.waits(rng)
    for number in range(1, backoff.attempts + 1):
        try:
            async with asyncio.timeout(attempt_timeout_seconds):
                await attempt()
        except retried as exc:
            reason = error_class(exc)
            wait = next(waits, None)
            logger.warning(
                "dependency_unreachable",
                dependency=dependency,
                location=location,
                attempt=number,
                attempts=backoff.attempts,
                retry_in_seconds=None if wait is None else round(wait, 3),
                error=reason,
            )
            if wait is None:
                raise give_up(reason) from exc
            await asyncio.sleep(wait)
        else:
            if number > 1:
                logger.info("dependency_reachable", dependency=dependency, attempt=number)
            return
