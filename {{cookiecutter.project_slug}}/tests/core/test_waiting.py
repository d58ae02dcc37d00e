"""The start-up wait: jittered doubling backoff, one warning per failed try, one line at the end."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator
from typing import Any

import pytest

from app.core.logging import captured_events
from app.core.waiting import Backoff, DependencyUnreachableError, error_class, wait_until_reachable
from tests.support.live_server import free_port


@pytest.fixture
def logged() -> Iterator[list[dict[str, Any]]]:
    with captured_events() as events:
        yield events


def _failures(logged: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in logged if line.get("event") == "dependency_unreachable"]


def _give_up(reason: str) -> DependencyUnreachableError:
    return DependencyUnreachableError(f"THING_URL: unreachable ({reason})")


async def _connect(port: int) -> None:
    """One real TCP connection to loopback `port`: refused while nothing listens."""
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.close()
    await writer.wait_closed()


def test_waits_double_up_to_the_cap_each_drawn_from_its_upper_half() -> None:
    backoff = Backoff(attempts=7, first_seconds=0.5, longest_seconds=3.0)
    for seed in range(50):
        waits = list(backoff.waits(random.Random(seed)))
        assert len(waits) == 6
        for wait, delay in zip(waits, [0.5, 1.0, 2.0, 3.0, 3.0, 3.0], strict=True):
            assert delay / 2 <= wait <= delay


def test_replicas_starting_together_do_not_retry_in_step() -> None:
    backoff = Backoff(attempts=4, first_seconds=1.0, longest_seconds=10.0)
    schedules = {tuple(backoff.waits(random.Random(seed))) for seed in range(20)}
    assert len(schedules) == 20


def test_one_attempt_never_waits() -> None:
    assert list(Backoff(attempts=1, first_seconds=1.0, longest_seconds=1.0).waits()) == []


async def test_a_dependency_that_comes_up_is_waited_for(logged: list[dict[str, Any]]) -> None:
    port = free_port()
    server: asyncio.Server | None = None

    async def connect_and_start_after_two_refusals() -> None:
        nonlocal server
        try:
            await _connect(port)
        except ConnectionRefusedError:
            if len(_failures(logged)) == 1:  # this is the second refusal: come up now
                server = await asyncio.start_server(lambda _r, w: w.close(), "127.0.0.1", port)
            raise

    try:
        await wait_until_reachable(
            "thing",
            connect_and_start_after_two_refusals,
            Backoff(attempts=5, first_seconds=0.01, longest_seconds=0.05),
            location=f"127.0.0.1:{port}",
            outages=(OSError,),
            attempt_timeout_seconds=2,
            give_up=_give_up,
        )
    finally:
        if server is not None:
            server.close()

    failures = _failures(logged)
    assert [(line["attempt"], line["attempts"]) for line in failures] == [(1, 5), (2, 5)]
    for line in failures:
        assert line["dependency"] == "thing"
        assert line["location"] == f"127.0.0.1:{port}"
        assert line["error"] == "ConnectionRefusedError"
        assert line["level"] == "warning"
        assert 0.005 <= line["retry_in_seconds"] <= 0.05


async def test_every_attempt_failing_ends_with_the_one_line(logged: list[dict[str, Any]]) -> None:
    port = free_port()
    started = time.monotonic()
    with pytest.raises(DependencyUnreachableError) as caught:
        await wait_until_reachable(
            "thing",
            lambda: _connect(port),
            Backoff(attempts=3, first_seconds=0.1, longest_seconds=1.0),
            location=f"127.0.0.1:{port}",
            outages=(OSError,),
            attempt_timeout_seconds=2,
            give_up=_give_up,
        )

    assert time.monotonic() - started >= 0.05 + 0.1  # the lower halves of 0.1 and 0.2
    assert str(caught.value) == "THING_URL: unreachable (ConnectionRefusedError)"
    failures = _failures(logged)
    assert [line["attempt"] for line in failures] == [1, 2, 3]
    assert failures[-1]["retry_in_seconds"] is None


async def test_an_attempt_that_hangs_is_cut_short_and_counts_as_failed(
    logged: list[dict[str, Any]],
) -> None:
    async def hang() -> None:
        await asyncio.sleep(3600)

    with pytest.raises(DependencyUnreachableError, match=r"\(TimeoutError\)"):
        await wait_until_reachable(
            "thing",
            hang,
            Backoff(attempts=2, first_seconds=0.01, longest_seconds=0.01),
            location="somewhere",
            outages=(OSError,),
            attempt_timeout_seconds=0.05,
            give_up=_give_up,
        )
    assert [line["error"] for line in _failures(logged)] == ["TimeoutError", "TimeoutError"]


async def test_a_mistake_no_wait_will_mend_is_raised_at_once(
    logged: list[dict[str, Any]],
) -> None:
    calls = 0

    async def refuse_the_password() -> None:
        nonlocal calls
        calls += 1
        raise PermissionError("password authentication failed")

    with pytest.raises(PermissionError):
        await wait_until_reachable(
            "thing",
            refuse_the_password,
            Backoff(attempts=5, first_seconds=0.01, longest_seconds=0.01),
            location="somewhere",
            outages=(ConnectionError,),
            attempt_timeout_seconds=1,
            give_up=_give_up,
        )
    assert calls == 1
    assert _failures(logged) == []


def test_the_error_class_is_the_driver_error_under_its_wrappers() -> None:
    def connect() -> None:
        try:
            raise ConnectionRefusedError("refused")
        except OSError as exc:
            raise RuntimeError("client could not connect") from exc

    with pytest.raises(RuntimeError) as wrapped:
        connect()
    assert error_class(wrapped.value) == "ConnectionRefusedError"
    assert error_class(TimeoutError()) == "TimeoutError"
