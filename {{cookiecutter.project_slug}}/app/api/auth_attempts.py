"""Login and registration attempts, throttled per client address and per account."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from app.core.rate_limit import RateLimiter
from app.core.throttle import AuthThrottle
from app.crud.user import normalize_email


@dataclass(frozen=True, slots=True)
class AuthAttempt:
    """One attempt from a known client address, before its account is known.

    `request.client` is the connecting peer, or the client a trusted proxy names (see
    TRUSTED_PROXIES), so rotating X-Forwarded-For from anywhere else changes nothing.
    """

    limiter: RateLimiter
    throttle: AuthThrottle
    route: str
    address: str

    async def check(self, email: str) -> None:
        """Count the attempt against the account too; 429 while the account must wait."""
        account = self._account(email)
        await self.limiter.hit(f"{self.route}:account:{account}")
        await self.throttle.check(account=account)

    async def failed(self, email: str) -> None:
        """A wrong password, or a sign-up for a taken email: both keys wait longer."""
        await self.throttle.failed(account=self._account(email), address=self.address)

    async def succeeded(self, email: str) -> None:
        """The account's owner got in: their earlier typos no longer count."""
        await self.throttle.succeeded(account=self._account(email))

    def _account(self, email: str) -> str:
        """The route and a digest of the email: stored keys never hold an address."""
        digest = hashlib.sha256(normalize_email(email).encode()).hexdigest()[:32]
        return f"{self.route}:{digest}"


async def get_auth_attempt(request: Request) -> AuthAttempt:
    """Count the attempt per client address before the body is read; 429 when over."""
    address = request.client.host if request.client else "unknown"
    route = request.url.path
    limiter: RateLimiter = request.app.state.rate_limiter
    throttle: AuthThrottle = request.app.state.auth_throttle
    await limiter.hit(f"{route}:{address}")
    await throttle.check(address=address)
    return AuthAttempt(limiter=limiter, throttle=throttle, route=route, address=address)


AuthAttemptDep = Annotated[AuthAttempt, Depends(get_auth_attempt)]
