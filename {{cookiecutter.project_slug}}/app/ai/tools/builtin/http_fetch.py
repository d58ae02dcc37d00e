"""HTTP GET for a model, guarded against server-side request forgery.

A model that can be talked into fetching `http://169.254.169.254/` or `http://localhost`
would hand an attacker the service's own network. So every hop (redirects are followed
by hand) is resolved first, every address it resolves to must be public, and the
connection goes to the vetted address itself, with the original name in the `Host`
header and as the TLS server name. A DNS answer that changes between the check and the
connection (rebinding) therefore cannot redirect the request.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import Field

from app.ai.tools.base import Tool, ToolArguments, ToolContext, ToolError

if TYPE_CHECKING:
    import httpx  # loaded by the first fetch, not with the tool catalog

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")


class HttpFetchArgs(ToolArguments):
    """One absolute URL; where it may lead is checked when it is fetched, not here."""

    url: str = Field(
        min_length=1, max_length=2048, description="An absolute http:// or https:// URL."
    )


async def resolve_host(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for `host`."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def is_public_address(address: IPAddress) -> bool:
    """True only for globally routable unicast addresses, looking inside IPv6 wrappers."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if address.teredo is not None:
            embedded = address.teredo[1]
        if address in NAT64_PREFIX:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and not is_public_address(embedded):
            return False
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
    )


@dataclass(frozen=True, slots=True)
class Fetched:
    """A final (non-redirect) response: its body capped at the tool's `max_bytes`."""

    url: str
    status_code: int
    reason: str
    content_type: str
    charset: str | None
    body: bytes
    truncated: bool


@dataclass(frozen=True, slots=True)
class _Target:
    """Where one hop really connects: the vetted address, plus the name it stands for."""

    url: httpx.URL
    connect_urls: tuple[httpx.URL, ...]
    host_header: str
    server_name: str


class HttpFetchTool(Tool[HttpFetchArgs]):
    """Lets a model read the public web without reaching the service's own network."""

    name = "http_fetch"
    description = (
        "Fetch a public web page or API with HTTP GET and return its status, content type "
        "and body as text (capped in size). Private and internal addresses are refused."
    )
    arguments = HttpFetchArgs
    timeout_seconds: float

    def __init__(
        self,
        *,
        max_bytes: int,
        timeout_seconds: float,
        resolver: Resolver = resolve_host,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """`max_bytes` caps a body; `resolver` and `transport` let tests run without a network."""
        self.max_bytes = max_bytes
        self.timeout_seconds = timeout_seconds
        self._resolver = resolver
        self._transport = transport

    async def run(self, args: HttpFetchArgs, context: ToolContext) -> str:
        """The response's status, URL and content type, then its body as text."""
        fetched = await self.fetch(args.url)
        lines = [
            f"Status: {fetched.status_code} {fetched.reason}",
            f"URL: {fetched.url}",
            f"Content-Type: {fetched.content_type or 'unknown'}",
        ]
        if fetched.truncated:
            lines.append(f"Truncated: only the first {self.max_bytes} bytes are shown")
        return "\n".join(lines) + "\n\n" + _decode(fetched.body, fetched.charset)

    async def fetch(self, raw_url: str) -> Fetched:
        """GET a public URL, following up to `MAX_REDIRECTS` redirects, each hop vetted.

        Raises:
            ToolError: the URL is invalid or refused, or the request failed.
        """
        import httpx

        try:
            url = httpx.URL(raw_url)
        except httpx.InvalidURL as exc:
            raise ToolError(f"Invalid URL: {exc}") from None
        timeout = httpx.Timeout(self.timeout_seconds)
        async with httpx.AsyncClient(
            transport=self._transport, timeout=timeout, follow_redirects=False, trust_env=False
        ) as client:
            for _ in range(MAX_REDIRECTS + 1):
                target = await self._vet(url)
                location, fetched = await self._fetch(client, target)
                if fetched is not None:
                    return fetched
                try:
                    url = url.join(location or "")
                except httpx.InvalidURL:
                    raise ToolError(f"Invalid redirect location {location!r}") from None
        raise ToolError(f"Too many redirects (more than {MAX_REDIRECTS})")

    async def _vet(self, url: httpx.URL) -> _Target:
        """Refuse anything but http(s) to public addresses; pin the connection to one."""
        if url.scheme not in ("http", "https"):
            raise ToolError(f"Only http and https URLs are allowed, not {url.scheme or 'none'!r}")
        host = url.raw_host.decode("ascii")
        if not host:
            raise ToolError("The URL has no host")
        port = url.port or (443 if url.scheme == "https" else 80)
        addresses = await self._addresses(host, port)
        refused = [a for a in addresses if not is_public_address(a)]
        if refused:
            raise ToolError(f"Refused: {host} resolves to a non-public address ({refused[0]})")
        return _Target(
            url=url.copy_with(fragment=None),
            connect_urls=tuple(url.copy_with(host=str(a), fragment=None) for a in addresses),
            host_header=url.netloc.decode("ascii"),
            server_name=host,
        )

    async def _addresses(self, host: str, port: int) -> list[IPAddress]:
        try:
            return [ipaddress.ip_address(host)]
        except ValueError:
            pass
        try:
            resolved = await self._resolver(host, port)
            addresses = [ipaddress.ip_address(a) for a in resolved]
        except (OSError, ValueError):
            raise ToolError(f"Could not resolve host {host!r}") from None
        if not addresses:
            raise ToolError(f"Could not resolve host {host!r}")
        return addresses

    async def _fetch(
        self, client: httpx.AsyncClient, target: _Target
    ) -> tuple[str | None, Fetched | None]:
        """Try the vetted addresses in resolver order until one accepts the connection."""
        import httpx

        error: httpx.HTTPError | None = None
        for connect_url in target.connect_urls:
            try:
                return await self._get(client, target, connect_url)
            except httpx.ConnectError as exc:
                error = exc
            except httpx.HTTPError as exc:
                raise ToolError(f"Request to {target.url} failed: {type(exc).__name__}") from None
        raise ToolError(f"Could not connect to {target.url}: {type(error).__name__}")

    async def _get(
        self,
        client: httpx.AsyncClient,
        target: _Target,
        connect_url: httpx.URL,
    ) -> tuple[str | None, Fetched | None]:
        """One hop: the redirect location, or None and the response."""
        request = client.build_request(
            "GET",
            connect_url,
            headers={"Host": target.host_header, "Accept-Encoding": "identity"},
            extensions={"sni_hostname": target.server_name},
        )
        response = await client.send(request, stream=True)
        try:
            location = response.headers.get("location")
            if response.status_code in REDIRECT_STATUSES and location:
                return location, None
            encoding = response.headers.get("content-encoding", "identity").lower()
            if encoding != "identity":
                raise ToolError(
                    f"The server sent {encoding}-encoded content; refusing to unpack it"
                )
            limit = self.max_bytes
            body, truncated = await _read_capped(response, limit)
        finally:
            await response.aclose()
        return None, Fetched(
            url=str(target.url),
            status_code=response.status_code,
            reason=response.reason_phrase,
            content_type=response.headers.get("content-type", ""),
            charset=response.charset_encoding,
            body=body,
            truncated=truncated,
        )


def _decode(body: bytes, charset: str | None) -> str:
    """Text in the declared charset, falling back to UTF-8 for unknown or missing ones."""
    try:
        return body.decode(charset or "utf-8", errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")


async def _read_capped(response: httpx.Response, limit: int) -> tuple[bytes, bool]:
    """At most `limit` bytes of the body; stop reading (and say so) once it is exceeded."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(chunks)[:limit], True
    return b"".join(chunks), False
