"""The clock: the current instant in any IANA zone."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from app.ai.tools.base import ToolContext, ToolError
from app.ai.tools.builtin.clock import CurrentTimeArgs, CurrentTimeTool

INSTANT = datetime(2024, 7, 1, 12, 30, 5, tzinfo=UTC)


@pytest.fixture
def tool() -> CurrentTimeTool:
    return CurrentTimeTool(clock=lambda: INSTANT)


async def test_defaults_to_utc(tool: CurrentTimeTool, tool_context: ToolContext) -> None:
    answer = json.loads(await tool.run(tool.parse({}), tool_context))
    assert answer == {
        "timezone": "UTC",
        "datetime": "2024-07-01T12:30:05+00:00",
        "weekday": "Monday",
        "utc_offset": "+0000",
        "unix_time": int(INSTANT.timestamp()),
    }


@pytest.mark.parametrize(
    ("zone", "local", "offset"),
    [
        ("Europe/Paris", "2024-07-01T14:30:05+02:00", "+0200"),
        ("America/New_York", "2024-07-01T08:30:05-04:00", "-0400"),
        ("Asia/Kolkata", "2024-07-01T18:00:05+05:30", "+0530"),
    ],
)
async def test_converts_to_the_requested_zone(
    tool: CurrentTimeTool, tool_context: ToolContext, zone: str, local: str, offset: str
) -> None:
    answer = json.loads(await tool.run(CurrentTimeArgs(timezone=zone), tool_context))
    assert answer["datetime"] == local
    assert answer["utc_offset"] == offset
    assert answer["unix_time"] == int(INSTANT.timestamp())


@pytest.mark.parametrize(
    "zone", ["Mars/Olympus_Mons", "../../../etc/passwd", "/etc/localtime", "Europe", "UTC\x00"]
)
async def test_unknown_zone_is_a_clear_tool_error(
    tool: CurrentTimeTool, tool_context: ToolContext, zone: str
) -> None:
    with pytest.raises(ToolError, match="Unknown time zone"):
        await tool.run(CurrentTimeArgs(timezone=zone), tool_context)


async def test_the_real_clock_is_aware_and_current(tool_context: ToolContext) -> None:
    answer = json.loads(await CurrentTimeTool().run(CurrentTimeArgs(), tool_context))
    assert abs(answer["unix_time"] - datetime.now(UTC).timestamp()) < 60
