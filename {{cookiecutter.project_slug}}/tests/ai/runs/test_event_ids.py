"""Event ids: ordered through a run, and the same again when a resumed run replays it."""

from __future__ import annotations

import asyncio

from app.ai.runs import event_ids
from app.core.event_log import parse_id


async def _a_run(*, replaying_first_step: bool) -> list[str]:
    """Ids of a run's events: started, two deltas in a model call, then two tool calls."""
    sent: list[str] = []
    with event_ids.numbering() as position:

        def send() -> None:
            sent.append(position.next_id(event_ids.current_step()))

        event_ids.step_begun()  # record_start
        send()  # execution.started
        with event_ids.inside(event_ids.step_begun()):  # model_call
            if not replaying_first_step:  # a replayed step returns its result, sending nothing
                send()
                send()
        send()  # tool.call

        async def tool() -> None:
            with event_ids.inside(event_ids.step_begun()):
                await asyncio.sleep(0)

        async with asyncio.TaskGroup() as group:
            group.create_task(tool())
            group.create_task(tool())
        send()  # tool.result
        send()  # tool.result
    return sent


async def test_events_are_numbered_in_the_order_they_are_sent() -> None:
    ids = await _a_run(replaying_first_step=False)

    assert ids == ["3-1", "4-1", "4-2", "5-1", "9-1", "9-2"]
    assert [parse_id(i) for i in ids] == sorted(parse_id(i) for i in ids)


async def test_a_replay_sends_what_it_sends_again_under_the_same_ids() -> None:
    first = await _a_run(replaying_first_step=False)
    replayed = await _a_run(replaying_first_step=True)

    assert set(replayed) <= set(first)
    assert replayed == ["3-1", "5-1", "9-1", "9-2"]


async def test_numbering_ends_with_its_block() -> None:
    with event_ids.numbering():
        assert event_ids.step_begun() == 1
    assert event_ids.step_begun() is None
    assert event_ids.current_step() is None
