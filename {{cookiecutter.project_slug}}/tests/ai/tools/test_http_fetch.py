"""http_fetch: the success path offline, and every SSRF route we know of refused."""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Sequence

import httpx
import pytest

from app.ai.tools.base import ToolContext, ToolError
from app.ai.tools.builtin.http_fetch import (
    MAX_REDIRECTS,
    HttpFetchArgs,
    HttpFetchTool,
    is_public_address,
)

MAX_BYTES = 1_000_000
TIMEOUT_SECONDS = 30.0
PUBLIC_IP = "93.184.216.34"
DNS = {
    "example.com": [PUBLIC_IP],
    "other.example": ["93.184.216.35"],
    "localhost": ["127.0.0.1", "::1"],
    "internal.example": ["10.0.0.7"],
    "metadata.example": ["169.254.169.254"],
    "mixed.example": [PUBLIC_IP, "192.168.1.10"],
    "v6only.example": ["2606:2800:220:1:248:1893:25c8:1946"],
}


class FakeDNS:
    """A resolver from a table; counts lookups so tests can see what was resolved."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.lookups: list[str] = []

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        self.lookups.append(host)
        if host not in self.table:
            raise OSError(f"cannot resolve {host}")
        return self.table[host]


@dataclasses.dataclass(frozen=True)
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = dataclasses.field(default_factory=dict)


class Server:
    """Answers from a table of (Host header, path) -> reply and records every request.

    Bodies are streamed, as from a real connection, so the byte cap is exercised.
    """

    def __init__(self, routes: dict[tuple[str, str], Reply]) -> None:
        self.routes = routes
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.routes.get(
            (request.headers["host"], request.url.path), Reply(404, b"not found")
        )
        return httpx.Response(
            reply.status, headers=reply.headers, stream=httpx.ByteStream(reply.body)
        )


def make_tool(
    server: Server, dns: FakeDNS | None = None, *, max_bytes: int = MAX_BYTES
) -> HttpFetchTool:
    return HttpFetchTool(
        max_bytes=max_bytes,
        timeout_seconds=TIMEOUT_SECONDS,
        resolver=dns or FakeDNS(DNS),
        transport=httpx.MockTransport(server),
    )


async def fetch(tool: HttpFetchTool, context: ToolContext, url: str) -> str:
    return await tool.run(HttpFetchArgs(url=url), context)


async def test_fetches_a_public_page_through_the_vetted_address(
    tool_context: ToolContext,
) -> None:
    server = Server(
        {
            ("example.com", "/hello"): Reply(
                200, b"Hello, world", {"content-type": "text/plain; charset=utf-8"}
            )
        }
    )
    answer = await fetch(make_tool(server), tool_context, "https://example.com/hello#frag")
    assert answer.startswith("Status: 200 OK\nURL: https://example.com/hello\n")
    assert "Content-Type: text/plain; charset=utf-8" in answer
    assert answer.endswith("\n\nHello, world")
    (request,) = server.requests
    # Connected to the address that was checked, not to whatever DNS says next time.
    assert request.url.host == PUBLIC_IP
    assert request.headers["host"] == "example.com"
    assert request.extensions["sni_hostname"] == "example.com"
    assert request.headers["accept-encoding"] == "identity"


async def test_non_2xx_statuses_are_returned_not_raised(tool_context: ToolContext) -> None:
    answer = await fetch(make_tool(Server({})), tool_context, "http://example.com/missing")
    assert answer.startswith("Status: 404 Not Found")
    assert answer.endswith("not found")


async def test_the_host_header_keeps_a_non_default_port(tool_context: ToolContext) -> None:
    server = Server({("example.com:8080", "/"): Reply(200, b"ok")})
    answer = await fetch(make_tool(server), tool_context, "http://example.com:8080/")
    assert answer.endswith("ok")
    assert server.requests[0].url.port == 8080


async def test_ipv6_hosts_are_connected_by_address(tool_context: ToolContext) -> None:
    server = Server({("v6only.example", "/"): Reply(200, b"six")})
    answer = await fetch(make_tool(server), tool_context, "http://v6only.example/")
    assert answer.endswith("six")
    assert server.requests[0].url.host == "2606:2800:220:1:248:1893:25c8:1946"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://127.1.2.3:8000/admin",
        "http://localhost/",
        "http://10.1.2.3/",
        "http://172.16.0.1/",
        "http://192.168.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://255.255.255.255/",
        "http://[::1]/",
        "http://[::]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:169.254.169.254]/",
        "http://[fe80::1]/",
        "http://[fc00::1]/",
        "http://[64:ff9b::7f00:1]/",
        "http://[2002:7f00:1::1]/",
        "http://internal.example/",
        "http://metadata.example/",
        "http://mixed.example/",
        "http://example.com@127.0.0.1/",
    ],
)
async def test_refuses_non_public_destinations(tool_context: ToolContext, url: str) -> None:
    server = Server({})
    with pytest.raises(ToolError, match="non-public address"):
        await fetch(make_tool(server), tool_context, url)
    assert server.requests == []


@pytest.mark.parametrize(
    "url", ["http://localhost/", "http://2130706433/", "http://0x7f000001/", "http://127.1/"]
)
async def test_the_system_resolver_is_checked_too(tool_context: ToolContext, url: str) -> None:
    server = Server({})
    tool = HttpFetchTool(
        max_bytes=MAX_BYTES,
        timeout_seconds=TIMEOUT_SECONDS,
        transport=httpx.MockTransport(server),
    )
    with pytest.raises(ToolError, match="non-public address"):
        await fetch(tool, tool_context, url)
    assert server.requests == []


async def test_refuses_a_redirect_from_a_public_host_to_a_private_one(
    tool_context: ToolContext,
) -> None:
    server = Server(
        {
            ("example.com", "/go"): Reply(
                302, headers={"location": "http://internal.example/secrets"}
            ),
            ("internal.example", "/secrets"): Reply(200, b"TOP SECRET"),
        }
    )
    with pytest.raises(ToolError, match=r"internal\.example resolves to a non-public"):
        await fetch(make_tool(server), tool_context, "http://example.com/go")
    assert [r.headers["host"] for r in server.requests] == ["example.com"]


@pytest.mark.parametrize(
    "location", ["http://127.0.0.1:6379/", "http://[::1]/", "http://169.254.169.254/"]
)
async def test_refuses_a_redirect_to_a_private_address(
    tool_context: ToolContext, location: str
) -> None:
    server = Server({("example.com", "/go"): Reply(307, headers={"location": location})})
    with pytest.raises(ToolError, match="non-public"):
        await fetch(make_tool(server), tool_context, "http://example.com/go")
    assert len(server.requests) == 1


async def test_follows_public_redirects_checking_every_hop(tool_context: ToolContext) -> None:
    dns = FakeDNS(DNS)
    server = Server(
        {
            ("example.com", "/a"): Reply(301, headers={"location": "/b"}),
            ("example.com", "/b"): Reply(302, headers={"location": "https://other.example/c"}),
            ("other.example", "/c"): Reply(200, b"arrived"),
        }
    )
    answer = await fetch(make_tool(server, dns), tool_context, "http://example.com/a")
    assert "URL: https://other.example/c" in answer
    assert answer.endswith("arrived")
    assert dns.lookups == ["example.com", "example.com", "other.example"]


async def test_stops_after_too_many_redirects(tool_context: ToolContext) -> None:
    server = Server({("example.com", "/loop"): Reply(302, headers={"location": "/loop"})})
    with pytest.raises(ToolError, match="Too many redirects"):
        await fetch(make_tool(server), tool_context, "http://example.com/loop")
    assert len(server.requests) == MAX_REDIRECTS + 1


async def test_dns_rebinding_cannot_move_the_connection(tool_context: ToolContext) -> None:
    class RebindingDNS(FakeDNS):
        async def __call__(self, host: str, port: int) -> Sequence[str]:
            self.lookups.append(host)
            return [PUBLIC_IP] if len(self.lookups) == 1 else ["127.0.0.1"]

    server = Server({("example.com", "/"): Reply(200, b"public")})
    tool = make_tool(server, RebindingDNS({}))
    assert (await fetch(tool, tool_context, "http://example.com/")).endswith("public")
    assert [r.url.host for r in server.requests] == [PUBLIC_IP]


async def test_caps_the_body_and_says_so(
    tool_context: ToolContext,
) -> None:
    server = Server({("example.com", "/big"): Reply(200, b"0123456789" * 100)})
    answer = await fetch(make_tool(server, max_bytes=10), tool_context, "http://example.com/big")
    assert "Truncated: only the first 10 bytes are shown" in answer
    assert answer.endswith("\n\n0123456789")


async def test_refuses_compressed_bodies_it_did_not_ask_for(tool_context: ToolContext) -> None:
    server = Server(
        {("example.com", "/gz"): Reply(200, b"\x1f\x8b...", {"content-encoding": "gzip"})}
    )
    with pytest.raises(ToolError, match="gzip-encoded"):
        await fetch(make_tool(server), tool_context, "http://example.com/gz")


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/file",
        "gopher://example.com/",
        "javascript:alert(1)",
        "example.com/no-scheme",
    ],
)
async def test_refuses_other_schemes(tool_context: ToolContext, url: str) -> None:
    server = Server({})
    with pytest.raises(ToolError, match="Only http and https"):
        await fetch(make_tool(server), tool_context, url)
    assert server.requests == []


async def test_unresolvable_host_is_a_tool_error(tool_context: ToolContext) -> None:
    with pytest.raises(ToolError, match=r"Could not resolve host 'nowhere\.invalid'"):
        await fetch(make_tool(Server({})), tool_context, "http://nowhere.invalid/")


async def test_transport_failures_are_tool_errors(tool_context: ToolContext) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    tool = HttpFetchTool(
        max_bytes=MAX_BYTES,
        timeout_seconds=TIMEOUT_SECONDS,
        resolver=FakeDNS(DNS),
        transport=httpx.MockTransport(refuse),
    )
    with pytest.raises(ToolError, match="Could not connect"):
        await fetch(tool, tool_context, "http://example.com/")


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("2002:0a00:0001::1", False),
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", False),
        ("64:ff9b::a00:1", False),
        ("198.18.0.1", False),
        ("192.0.2.1", False),
    ],
)
def test_is_public_address(address: str, public: bool) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is public
