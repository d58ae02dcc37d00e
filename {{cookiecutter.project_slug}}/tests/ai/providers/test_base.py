"""The helpers every adapter shares to keep the provider contract."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from app.ai.providers.base import (
    ProviderError,
    ProviderErrorKind,
    ToolCall,
    count_field,
    decode_tool_call,
    reading,
    retry_after_seconds,
    text_field,
)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, ProviderErrorKind.BAD_REQUEST),
        (401, ProviderErrorKind.AUTHENTICATION),
        (403, ProviderErrorKind.AUTHENTICATION),
        (404, ProviderErrorKind.BAD_REQUEST),
        (408, ProviderErrorKind.TIMEOUT),
        (422, ProviderErrorKind.BAD_REQUEST),
        (429, ProviderErrorKind.RATE_LIMITED),
        (500, ProviderErrorKind.UNAVAILABLE),
        (503, ProviderErrorKind.UNAVAILABLE),
        (529, ProviderErrorKind.UNAVAILABLE),
    ],
)
def test_every_status_has_one_kind(status: int, kind: ProviderErrorKind) -> None:
    assert ProviderErrorKind.for_status(status) is kind


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"retry-after-ms": "250", "retry-after": "7"}, 0.25),
        ({"retry-after": "-3"}, None),
        ({"retry-after": "soon"}, None),
        ({"retry-after": "inf"}, None),
        ({}, None),
    ],
)
def test_retry_after_reads_seconds_and_milliseconds(
    headers: dict[str, str], seconds: float | None
) -> None:
    lowered = {name.lower(): value for name, value in headers.items()}

    assert retry_after_seconds(lowered) == seconds


def test_retry_after_reads_an_http_date() -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    earlier = format_datetime(datetime.now(UTC) - timedelta(seconds=120), usegmt=True)

    waited = retry_after_seconds({"retry-after": later})

    assert waited is not None
    assert 100 < waited <= 120
    assert retry_after_seconds({"retry-after": earlier}) == 0.0


def test_json_object_arguments_are_decoded() -> None:
    call = decode_tool_call("call_1", "calculator", '{"expression": "6*7"}')

    assert call == ToolCall("call_1", "calculator", {"expression": "6*7"})


@pytest.mark.parametrize("raw", [None, "", "  "])
def test_absent_arguments_are_an_empty_object(raw: str | None) -> None:
    assert decode_tool_call("call_1", "current_time", raw) == ToolCall("call_1", "current_time", {})


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ('{"expression": 6*7', "not valid JSON"),
        ("[1, 2]", "not a JSON object"),
        ('"6*7"', "not a JSON object"),
    ],
)
def test_broken_arguments_are_marked_not_raised(raw: str, reason: str) -> None:
    call = decode_tool_call("call_1", "calculator", raw)

    assert call.arguments == {}
    assert call.raw_arguments == raw
    assert call.arguments_error is not None
    assert reason in call.arguments_error


@pytest.mark.parametrize(
    "crash",
    [
        lambda: json.loads("null").message,
        lambda: dict[str, object]()["choices"],
        lambda: [][0],
        lambda: "".join(json.loads("[null]")),
        lambda: int("forty-two"),
    ],
)
def test_reading_turns_an_unforeseen_shape_into_a_bad_response(crash: Callable[[], object]) -> None:
    with pytest.raises(ProviderError) as caught, reading("vendor"):
        crash()

    assert caught.value.kind is ProviderErrorKind.BAD_RESPONSE
    assert caught.value.provider == "vendor"
    assert isinstance(caught.value.__cause__, Exception)


def test_reading_lets_a_provider_error_through_unchanged() -> None:
    original = ProviderError("vendor", ProviderErrorKind.INCOMPLETE, "cut short")

    with pytest.raises(ProviderError) as caught, reading("vendor"):
        raise original

    assert caught.value is original


def test_fields_of_the_wrong_type_are_bad_responses() -> None:
    assert text_field("vendor", None) == ""
    assert count_field("vendor", None) == 0
    for read, value in ((text_field, 42), (count_field, "12"), (count_field, -1)):
        with pytest.raises(ProviderError) as caught:
            read("vendor", value)
        assert caught.value.kind is ProviderErrorKind.BAD_RESPONSE
