"""Test data builders that go through the public API, as a client would."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from app.crud import user as user_crud
from app.db.session import Database
from app.models import UserRole

DEFAULT_PASSWORD = "correct-horse-42"

# The `make_app` fixture: `await make_app(**settings_changes)` starts another application.
AppFactory = Callable[..., Awaitable[FastAPI]]


def client_for(application: FastAPI, **transport_options: Any) -> httpx.AsyncClient:
    """An HTTP client that calls the application in-process (no server, no network)."""
    transport = httpx.ASGITransport(app=application, **transport_options)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


@dataclass(frozen=True)
class SignedInUser:
    id: uuid.UUID
    email: str
    password: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


class UserFactory:
    """Registers users and signs them in."""

    def __init__(self, client: httpx.AsyncClient, database: Database) -> None:
        self.client = client
        self.database = database

    async def register(self, email: str | None = None, password: str = DEFAULT_PASSWORD) -> str:
        email = email or f"user-{uuid.uuid4().hex[:12]}@example.com"
        response = await self.client.post(
            "/api/v1/auth/register", json={"email": email, "password": password}
        )
        assert response.status_code == 201, response.text
        return email

    async def login(self, email: str, password: str = DEFAULT_PASSWORD) -> httpx.Response:
        return await self.client.post(
            "/api/v1/auth/login", data={"username": email, "password": password}
        )

    async def signed_in(self, *, admin: bool = False) -> SignedInUser:
        """A new user with tokens; admins are promoted directly in the database."""
        email = await self.register()
        if admin:
            await self.promote(email)
        response = await self.login(email)
        assert response.status_code == 200, response.text
        tokens = response.json()
        me = await self.client.get(
            "/api/v1/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        return SignedInUser(
            id=uuid.UUID(me.json()["id"]),
            email=email,
            password=DEFAULT_PASSWORD,
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
        )

    async def promote(self, email: str) -> None:
        async with self.database.transaction() as session:
            user = await user_crud.get_by_email(session, email=email)
            assert user is not None
            user.role = UserRole.ADMIN

    async def deactivate(self, email: str) -> None:
        """Disable an account directly, as an operator would."""
        async with self.database.transaction() as session:
            user = await user_crud.get_by_email(session, email=email)
            assert user is not None
            user.is_active = False
