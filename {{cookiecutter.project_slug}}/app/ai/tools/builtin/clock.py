"""The current date and time: models have no clock of their own."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field

from app.ai.tools.base import Tool, ToolArguments, ToolContext, ToolError


class CurrentTimeArgs(ToolArguments):
    """The zone to read the time in, UTC unless the model asks for another."""

    timezone: str = Field(
        default="UTC",
        min_length=1,
        max_length=64,
        description="An IANA time zone name, e.g. 'Europe/Paris' or 'America/New_York'.",
    )


def _utc_now() -> datetime:
    return datetime.now(UTC)


class CurrentTimeTool(Tool[CurrentTimeArgs]):
    """Models have no clock; this one reads the service's, in any zone."""

    name = "current_time"
    description = (
        "The current date and time in an IANA time zone (default UTC), with the weekday "
        "and UTC offset."
    )
    arguments = CurrentTimeArgs
    timeout_seconds = 5.0

    def __init__(self, clock: Callable[[], datetime] = _utc_now) -> None:
        """`clock` returns an aware datetime; tests pass a fixed one."""
        self._clock = clock

    async def run(self, args: CurrentTimeArgs, context: ToolContext) -> str:
        """The clock's instant, converted to the requested zone."""
        try:
            zone = ZoneInfo(args.timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ToolError(
                f"Unknown time zone {args.timezone!r}; use an IANA name such as "
                "'UTC', 'Europe/London' or 'Asia/Tokyo'"
            ) from None
        now = self._clock().astimezone(zone)
        return json.dumps(
            {
                "timezone": args.timezone,
                "datetime": now.isoformat(timespec="seconds"),
                "weekday": now.strftime("%A"),
                "utc_offset": now.strftime("%z"),
                "unix_time": int(now.timestamp()),
            }
        )
