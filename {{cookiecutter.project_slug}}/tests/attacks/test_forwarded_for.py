"""Spoofed X-Forwarded-For: a client cannot escape its limits by naming another address.

The header is believed only from the proxies in TRUSTED_PROXIES, and even then only the
hop the trusted proxy itself appended: what the client wrote to the left is ignored.
"""

from __future__ import annotations

import pytest
from fastapi import FastAPI, Request
from pydantic import ValidationError

from app.core.config import Settings
from tests.support.factories import AppFactory, client_for

LOGIN = "/api/v1/auth/login"
PROXY = "10.0.0.7"


async def _login_codes(
    app: FastAPI, peer: str, forwarded: list[str], *, account: str = "victim@example.com"
) -> list[int]:
    """One failed login per X-Forwarded-For value, all from the connecting `peer`."""
    codes = []
    form = {"username": account, "password": "guess-1"}
    async with client_for(app, client=(peer, 40000)) as http:
        for value in forwarded:
            response = await http.post(LOGIN, data=form, headers={"X-Forwarded-For": value})
            codes.append(response.status_code)
    return codes


async def test_without_trusted_proxies_rotating_the_header_changes_nothing(
    make_app: AppFactory,
) -> None:
    limited = await make_app(auth_rate_limit="2/minute")
    rotating = ["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"]
    assert await _login_codes(limited, "203.0.113.5", rotating) == [401, 401, 429, 429]


async def test_an_untrusted_peer_cannot_pose_as_a_trusted_proxy(make_app: AppFactory) -> None:
    """Naming the proxy's own address in the header does not make the caller the proxy."""
    limited = await make_app(auth_rate_limit="2/minute", trusted_proxies=[PROXY])
    forged = [f"198.51.100.{n}, {PROXY}" for n in range(4)]
    assert await _login_codes(limited, "203.0.113.5", forged) == [401, 401, 429, 429]


async def test_behind_a_trusted_proxy_each_client_has_its_own_limit(
    make_app: AppFactory,
) -> None:
    """Clients behind the proxy are told apart, so one of them cannot block the rest."""
    limited = await make_app(auth_rate_limit="2/minute", trusted_proxies=["10.0.0.0/24"])
    assert await _login_codes(limited, PROXY, ["198.51.100.1"] * 3) == [401, 401, 429]
    other = await _login_codes(limited, PROXY, ["198.51.100.2"], account="other@example.com")
    assert other == [401]


async def test_behind_a_trusted_proxy_prepended_addresses_are_ignored(
    make_app: AppFactory,
) -> None:
    """The proxy appends the address it saw; whatever the client sent stays on the left."""
    limited = await make_app(auth_rate_limit="2/minute", trusted_proxies=[PROXY])
    spoofed = [f"192.0.2.{n}, 198.51.100.1" for n in range(4)]
    assert await _login_codes(limited, PROXY, spoofed) == [401, 401, 429, 429]


async def test_failed_login_delays_follow_the_real_client(make_app: AppFactory) -> None:
    """The progressive delay is keyed on the same address, so rotation does not lift it."""
    throttled = await make_app(auth_free_failures_per_address=2)
    emails = [f"user{n}@example.com" for n in range(3)]
    async with client_for(throttled, client=("203.0.113.5", 40000)) as http:
        codes = [
            (
                await http.post(
                    LOGIN,
                    data={"username": email, "password": "guess-1"},
                    headers={"X-Forwarded-For": f"198.51.100.{n}"},
                )
            ).status_code
            for n, email in enumerate(emails)
        ]
    assert codes == [401, 401, 429]


async def test_client_and_scheme_are_believed_only_from_a_trusted_proxy(
    make_app: AppFactory,
) -> None:
    app = await make_app(trusted_proxies=[PROXY])

    async def whoami(request: Request) -> dict[str, str]:
        assert request.client is not None
        return {"client": request.client.host, "scheme": request.url.scheme}

    app.add_api_route("/whoami", whoami)
    headers = {"X-Forwarded-For": "198.51.100.1", "X-Forwarded-Proto": "https"}
    seen = {}
    for peer in (PROXY, "203.0.113.5"):
        async with client_for(app, client=(peer, 40000)) as http:
            seen[peer] = (await http.get("/whoami", headers=headers)).json()
    assert seen[PROXY] == {"client": "198.51.100.1", "scheme": "https"}
    assert seen["203.0.113.5"] == {"client": "203.0.113.5", "scheme": "http"}


@pytest.mark.parametrize("entry", ["*", "everyone", "10.0.0.0/33", ""])
def test_trusted_proxies_must_be_addresses_or_networks(entry: str) -> None:
    with pytest.raises(ValidationError, match="TRUSTED_PROXIES"):
        Settings(_env_file=None, environment="test", trusted_proxies=[entry])


def test_trusted_proxies_accept_addresses_and_networks() -> None:
    entries = ["10.0.0.7", "10.0.0.0/8", "2001:db8::/32", " 192.168.1.1 "]
    settings = Settings(_env_file=None, environment="test", trusted_proxies=entries)
    assert settings.trusted_proxies == ["10.0.0.7", "10.0.0.0/8", "2001:db8::/32", "192.168.1.1"]
