"""The contract of `Provider` (app/ai/providers/base.py) as one suite every adapter runs.

A vendor's test module runs it with a subclass that names the vendor's `Wire` (kept in
`<vendor>_wire.py` beside the test module):

    class TestContract(TextArgumentsContract):
        wire = AcmeWire()

The provider comes from `ProviderFactory` with the retries and timeout of the settings, and
its real SDK talks over loopback to `tests.support.fake_provider`, which sends the wire's
replies: well-formed, malformed, cut off, kept alive without end, or an HTTP error.
"""

from __future__ import annotations

import socket
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any, ClassVar

import pytest

from app.ai.providers.base import (
    ChatMessage,
    Completion,
    CompletionRequest,
    FinishReason,
    Provider,
    ProviderError,
    ProviderErrorKind,
    Role,
    StreamCompleted,
    StreamEvent,
    TextDelta,
)
from app.ai.providers.factory import ProviderFactory
from app.core.config import Settings
from tests.support.fake_provider import FakeProvider
from tests.support.fake_replies import Events, Hang, Json, KeepAlive, Reply, Status

QUESTION = CompletionRequest(
    model="contract-model",
    messages=(ChatMessage(Role.SYSTEM, "Be brief."), ChatMessage(Role.USER, "What is 6*7?")),
)
Connect = Callable[..., Provider]
STATUSES = {
    400: ProviderErrorKind.BAD_REQUEST,
    401: ProviderErrorKind.AUTHENTICATION,
    403: ProviderErrorKind.AUTHENTICATION,
    404: ProviderErrorKind.BAD_REQUEST,
    429: ProviderErrorKind.RATE_LIMITED,
    500: ProviderErrorKind.UNAVAILABLE,
    503: ProviderErrorKind.UNAVAILABLE,
}


class Wire(ABC):
    """One vendor's side of the contract: where its SDK connects, and its replies' shapes."""

    name: ClassVar[str]
    # Replies to `complete` and to `stream` that each lack something every reply must hold.
    malformed_replies: ClassVar[Mapping[str, Reply]]
    malformed_streams: ClassVar[Mapping[str, Reply]]
    # What the vendor sends to keep a stream open while nothing else comes.
    keep_alive_frames: ClassVar[Sequence[object]]

    @abstractmethod
    def settings(self, origin: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
        """Settings (and environment) that make the factory's provider call `origin`."""

    @abstractmethod
    def reply(self, text: str) -> Any:
        """A whole, well-formed text reply body."""

    @abstractmethod
    def stream(self, text: str, *, finished: bool = True) -> list[object]:
        """The frames of a streamed text reply; unfinished ones stop before the finish reason."""

    @abstractmethod
    def tool_call_reply(self, name: str, raw_arguments: str) -> Any:
        """A whole reply asking for one tool call with these arguments."""

    @abstractmethod
    def tool_call_stream(self, name: str, raw_arguments: str) -> list[object]:
        """The frames of a finished streamed reply asking for one tool call."""

    @abstractmethod
    def error(self, status: int) -> Any:
        """The vendor's error body for an HTTP status."""


async def collect(events: AsyncIterator[StreamEvent]) -> list[StreamEvent]:
    """Every event of a stream; a failure raises after the events before it were seen."""
    return [event async for event in events]


def closed_port_origin() -> str:
    """An origin where nothing listens, for connection failures."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class ProviderContract:
    """The contract for every adapter; subclasses set `wire`."""

    wire: ClassVar[Wire]

    @pytest.fixture
    async def connect(
        self, fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
    ) -> AsyncIterator[Connect]:
        """Build the vendor's provider through the factory, from settings, against the fake."""
        factories: list[ProviderFactory] = []

        def connect(*, max_retries: int = 0, timeout: float = 5.0, origin: str = "") -> Provider:
            values = {
                "environment": "test",
                "llm_max_retries": max_retries,
                "llm_timeout_seconds": timeout,
                **self.wire.settings(origin or fake_provider.origin, monkeypatch),
            }
            factories.append(ProviderFactory(Settings.model_validate(values)))
            return factories[-1].get(self.wire.name)

        yield connect
        for factory in factories:
            await factory.aclose()

    async def test_a_whole_reply_is_read(
        self, connect: Connect, fake_provider: FakeProvider
    ) -> None:
        fake_provider.queue(Json(self.wire.reply("Forty-two")))

        completion = await connect().complete(QUESTION)

        assert completion.content == "Forty-two"
        assert completion.finish_reason is FinishReason.STOP
        assert completion.usage.input_tokens > 0
        assert len(fake_provider.requests) == 1

    async def test_a_stream_yields_text_then_exactly_one_completion(
        self, connect: Connect, fake_provider: FakeProvider
    ) -> None:
        fake_provider.queue(Events(self.wire.stream("Forty-two, said slowly")))

        events = await collect(connect().stream(QUESTION))

        assert isinstance(events[-1], StreamCompleted)
        assert all(isinstance(event, TextDelta) for event in events[:-1])
        streamed = "".join(event.text for event in events if isinstance(event, TextDelta))
        assert streamed == events[-1].completion.content == "Forty-two, said slowly"
        assert events[-1].completion.usage.input_tokens > 0

    async def test_malformed_replies_are_bad_responses_and_not_retried(
        self, connect: Connect, fake_provider: FakeProvider
    ) -> None:
        shapes = self.wire.malformed_replies
        fake_provider.queue(*shapes.values())
        provider = connect(max_retries=2)

        outcomes = {name: await _outcome(provider.complete(QUESTION)) for name in shapes}

        assert outcomes == dict.fromkeys(shapes, ProviderErrorKind.BAD_RESPONSE)
        assert len(fake_provider.requests) == len(shapes)

    async def test_malformed_streams_are_bad_responses_and_not_retried(
        self, connect: Connect, fake_provider: FakeProvider
    ) -> None:
        shapes = self.wire.malformed_streams
        fake_provider.queue(*shapes.values())
        provider = connect(max_retries=2)

        outcomes = {name: await _outcome(collect(provider.stream(QUESTION))) for name in shapes}

        assert outcomes == dict.fromkeys(shapes, ProviderErrorKind.BAD_RESPONSE)
        assert len(fake_provider.requests) == len(shapes)

    async def test_a_stream_that_ends_without_a_finish_reason_is_incomplete(
        self, connect: Connect, fake_provider: FakeProvider
    ) -> None:
        fake_provider.queue(Events(self.wire.stream("Half an answer", finished=False)))
        seen: list[StreamEvent] = []

        error = await _failure(_into(seen, connect().stream(QUESTION)))

        assert error.kind is ProviderErrorKind.INCOMPLETE
        assert "".join(event.text for event in seen if isinstance(event, TextDelta))
        assert not any(isinstance(event, StreamCompleted) for event in seen)

    async def test_a_stream_cut_mid_way_is_a_connection_failure_and_not_retried(
        self, connect: Connect, fake_provider: FakeProvider
    ) -> None:
        fake_provider.always(Events(self.wire.stream("Half an answer", finished=False), cut=True))
        seen: list[StreamEvent] = []

        error = await _failure(_into(seen, connect(max_retries=2).stream(QUESTION)))

        assert error.kind is ProviderErrorKind.CONNECTION
        assert not any(isinstance(event, StreamCompleted) for event in seen)
        assert len(fake_provider.requests) == 1

    async def test_keep_alives_that_never_finish_are_incomplete(
        self, connect: Connect, fake_provider: FakeProvider
    ) -> None:
        opening = self.wire.stream("", finished=False)
        fake_provider.queue(
            KeepAlive(interval=0.01, count=6, frames=self.wire.keep_alive_frames, opening=opening)
        )

        error = await _failure(collect(connect().stream(QUESTION)))

        assert error.kind is ProviderErrorKind.INCOMPLETE

    async def test_an_unknown_tool_is_passed_on_for_the_loop_to_refuse(
        self, connect: Connect, fake_provider: FakeProvider
    ) -> None:
        fake_provider.queue(Json(self.wire.tool_call_reply("no_such_tool", '{"x": 1}')))
        fake_provider.queue(Events(self.wire.tool_call_stream("no_such_tool", '{"x": 1}')))
        provider = connect()

        whole = await provider.complete(QUESTION)
        events = await collect(provider.stream(QUESTION))

        assert isinstance(events[-1], StreamCompleted)
        for completion in (whole, events[-1].completion):
            assert completion.finish_reason is FinishReason.TOOL_CALLS
            assert [(call.name, call.arguments) for call in completion.tool_calls] == [
                ("no_such_tool", {"x": 1})
            ]
            assert completion.tool_calls[0].id

    async def test_http_errors_map_to_one_kind_for_every_vendor(
        self, connect: Connect, fake_provider: FakeProvider
    ) -> None:
        fake_provider.queue(*(Status(status, body=self.wire.error(status)) for status in STATUSES))
        provider = connect()

        outcomes = {status: await _outcome(provider.complete(QUESTION)) for status in STATUSES}

        assert outcomes == STATUSES
        assert len(fake_provider.requests) == len(STATUSES)

    async def test_a_rate_limit_keeps_the_retry_after_wait(
        self, connect: Connect, fake_provider: FakeProvider
    ) -> None:
        fake_provider.always(Status(429, retry_after="7", body=self.wire.error(429)))
        provider = connect()

        whole = await _failure(provider.complete(QUESTION))
        streamed = await _failure(collect(provider.stream(QUESTION)))

        for error in (whole, streamed):
            assert error.kind is ProviderErrorKind.RATE_LIMITED
            assert error.retry_after == 7.0

    async def test_a_timeout_is_a_timeout(
        self, connect: Connect, fake_provider: FakeProvider
    ) -> None:
        fake_provider.always(Hang(seconds=30))

        error = await _failure(connect(timeout=0.3).complete(QUESTION))

        assert error.kind is ProviderErrorKind.TIMEOUT
        assert len(fake_provider.requests) == 1

    async def test_an_unreachable_server_is_a_connection_failure(self, connect: Connect) -> None:
        error = await _failure(connect(origin=closed_port_origin()).complete(QUESTION))

        assert error.kind is ProviderErrorKind.CONNECTION

    async def test_the_sdk_retries_are_the_only_retry_layer(
        self, connect: Connect, fake_provider: FakeProvider
    ) -> None:
        # A short wait, so the SDKs that honour it retry at once.
        headers = {"retry-after-ms": "10"}
        fake_provider.always(Status(503, body=self.wire.error(503), headers=headers))

        error = await _failure(connect(max_retries=1).complete(QUESTION))

        assert error.kind is ProviderErrorKind.UNAVAILABLE
        assert len(fake_provider.requests) == 1 + 1


class TextArgumentsContract(ProviderContract):
    """For vendors whose tool arguments arrive as JSON text, which a model can get wrong."""

    @pytest.mark.parametrize("raw", ['{"expression": 6*7', "[1, 2]", '"6*7"'])
    async def test_broken_tool_arguments_become_a_marked_call(
        self, connect: Connect, fake_provider: FakeProvider, raw: str
    ) -> None:
        fake_provider.queue(Json(self.wire.tool_call_reply("calculator", raw)))
        fake_provider.queue(Events(self.wire.tool_call_stream("calculator", raw)))
        provider = connect()

        whole = await provider.complete(QUESTION)
        events = await collect(provider.stream(QUESTION))

        assert isinstance(events[-1], StreamCompleted)
        for completion in (whole, events[-1].completion):
            _assert_marked(completion, raw)


def _assert_marked(completion: Completion, raw: str) -> None:
    assert completion.finish_reason is FinishReason.TOOL_CALLS
    (call,) = completion.tool_calls
    assert call.name == "calculator"
    assert call.arguments == {}
    assert call.arguments_error
    assert call.raw_arguments == raw


async def _outcome(call: Awaitable[object]) -> ProviderErrorKind | str:
    """The kind of error a call raised; anything else is named so a test shows what escaped."""
    try:
        await call
    except ProviderError as exc:
        return exc.kind
    except Exception as exc:
        return f"{type(exc).__name__} escaped: {exc}"
    return "no error"


async def _failure(call: Awaitable[object]) -> ProviderError:
    """The ProviderError an awaited call raises; anything else escaping fails the test."""
    with pytest.raises(ProviderError) as caught:
        await call
    return caught.value


async def _into(seen: list[StreamEvent], events: AsyncIterator[StreamEvent]) -> None:
    async for event in events:
        seen.append(event)
