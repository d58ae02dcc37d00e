"""Provider checks: in the background, at most once per interval, against real loopback servers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from app.ai.providers.reachability import ProviderReachability, Reachability
from tests.support.live_server import free_port
from tests.support.network import silent_server
from tests.support.waiting import wait_for


class _Api(ThreadingHTTPServer):
    """A vendor's API root on loopback: answers every GET with `status` and counts them."""

    daemon_threads = True

    def __init__(self, status: int) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.status = status
        self.hits = 0

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/v1"


class _Handler(BaseHTTPRequestHandler):
    server: _Api

    def do_GET(self) -> None:
        self.server.hits += 1
        self.send_response(self.server.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def api_at() -> Iterator[Any]:
    """Start loopback APIs answering a given status; all stopped after the test."""
    servers: list[_Api] = []

    def start(status: int) -> _Api:
        server = _Api(status)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


async def _first_results(checks: ProviderReachability) -> dict[str, Reachability]:
    """Ask (which starts the first check), then wait until it has an outcome."""
    assert checks.results() == {}  # a probe never waits on the network
    await wait_for(lambda: bool(checks.results()), message="no check finished")
    return checks.results()


async def test_any_answer_but_a_gateways_away_counts_as_reachable(api_at: Any) -> None:
    unauthorized, not_found, away = api_at(401), api_at(404), api_at(503)
    dead = f"http://127.0.0.1:{free_port()}/v1"
    checks = ProviderReachability(
        {
            "needs-key": unauthorized.url,
            "no-root": not_found.url,
            "overloaded": away.url,
            "gone": dead,
            "local": "",
        },
        interval_seconds=60,
    )
    try:
        results = await _first_results(checks)
    finally:
        await checks.aclose()

    assert {name: result.reachable for name, result in results.items()} == {
        "needs-key": True,
        "no-root": True,
        "overloaded": False,
        "gone": False,
    }
    assert results["overloaded"].error == "HTTP 503"
    assert results["gone"].error == "ConnectError"
    assert results["needs-key"].error is None
    assert all(result.latency_ms >= 0 for result in results.values())
    assert not checks.reaches("local")


async def test_probes_more_often_than_the_interval_reach_the_api_once(api_at: Any) -> None:
    api = api_at(404)
    now = [0.0]
    checks = ProviderReachability({"vendor": api.url}, interval_seconds=60, clock=lambda: now[0])
    try:
        first = (await _first_results(checks))["vendor"]
        for _ in range(50):
            assert checks.results()["vendor"] == first
        assert api.hits == 1

        now[0] = 61.0  # the interval has passed: the next probe starts another check
        checks.results()
        await wait_for(lambda: checks.results()["vendor"] != first, message="no new check")
    finally:
        await checks.aclose()
    assert api.hits == 2


async def test_no_interval_means_no_checks(api_at: Any) -> None:
    api = api_at(404)
    checks = ProviderReachability({"vendor": api.url}, interval_seconds=0)
    assert checks.results() == {}
    assert not checks.enabled
    await checks.aclose()
    assert api.hits == 0


async def test_a_check_that_hangs_gives_up_after_its_timeout() -> None:
    """A peer that accepts and never answers: the check ends as unreachable, in time."""
    async with silent_server() as address:
        checks = ProviderReachability(
            {"stalled": f"http://{address}/v1"}, interval_seconds=60, timeout_seconds=0.2
        )
        try:
            results = await _first_results(checks)
        finally:
            await checks.aclose()

    assert results["stalled"].reachable is False
    assert results["stalled"].error == "ReadTimeout"
