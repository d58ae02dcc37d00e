"""Event ids that a resumed run gives again: the same event keeps the same id.

A run's position is the number of steps it has begun, which a resumed workflow replays
in the same order. An event sent while step N runs gets the id `2N-k`; one sent after
step N began, between steps, gets `(2N+1)-k`, where k counts the events of that span.
A resumed run replaying what it already did sends those events again under the same
ids, which the event log ignores; what it does new gets ids above all of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar


class RunPosition:
    """How far one run has got: steps begun, and events sent in each span."""

    def __init__(self) -> None:
        self.steps = 0
        self._sent: dict[int, int] = {}

    def begin_step(self) -> int:
        """Count a step as begun; its number."""
        self.steps += 1
        return self.steps

    def next_id(self, inside_step: int | None) -> str:
        """The id of the next event, sent inside step `inside_step` or between steps."""
        span = 2 * inside_step if inside_step is not None else 2 * self.steps + 1
        self._sent[span] = sent = self._sent.get(span, 0) + 1
        return f"{span}-{sent}"


_position: ContextVar[RunPosition | None] = ContextVar("run_position", default=None)
_inside: ContextVar[int | None] = ContextVar("inside_step", default=None)


@contextmanager
def numbering() -> Iterator[RunPosition]:
    """Number the events of the run in this context (and in the tasks it starts)."""
    position = RunPosition()
    token = _position.set(position)
    try:
        yield position
    finally:
        _position.reset(token)


def step_begun() -> int | None:
    """Count a step of the current run as begun; its number (None outside a run)."""
    position = _position.get()
    return None if position is None else position.begin_step()


@contextmanager
def inside(step_number: int | None) -> Iterator[None]:
    """Events sent in this block belong to step `step_number`."""
    token = _inside.set(step_number)
    try:
        yield
    finally:
        _inside.reset(token)


def current_step() -> int | None:
    """The step whose code is running in this task, None between steps."""
    return _inside.get()
