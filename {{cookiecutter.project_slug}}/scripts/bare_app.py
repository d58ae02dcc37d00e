"""A bare FastAPI app with the benchmarked routes: the floor `make bench` compares against.

Plain FastAPI on the same uvicorn, no middleware, no database, no settings: what each
route costs before the service adds anything. The routes answer like ours do:

- `GET /health`: a fixed small JSON body;
- `GET /api/v1/users/me`: a user-shaped JSON body, for any `Authorization` header;
- `POST /api/v1/auth/login`: the OAuth2 password form checked with bcrypt in a worker
  thread, as FastAPI's own tutorial does it;
- `POST /stream`: a server-sent event stream of one event.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from functools import cache
from typing import Annotated

import bcrypt
from fastapi import Depends, FastAPI, Header, HTTPException
from fastapi.responses import StreamingResponse
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

PASSWORD = "bench-Password-1"  # noqa: S105 - the bare app's only, fixed account
CREATED = datetime.now(UTC)
USER_ID = uuid.uuid4()

app = FastAPI()


class Health(BaseModel):
    """The liveness answer."""

    status: str = "ok"


class Me(BaseModel):
    """The fields our `UserRead` has."""

    id: uuid.UUID
    email: str
    full_name: str | None
    role: str
    is_active: bool
    created_at: datetime
    updated_at: datetime


class Tokens(BaseModel):
    """What a login answers."""

    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret


@cache
def hashed() -> bytes:
    """The account's bcrypt hash (12 rounds, as ours), made on first use: not at start-up."""
    return bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(12))


@app.get("/health")
async def health() -> Health:
    """Nothing checked: the process answers."""
    return Health()


@app.get("/api/v1/users/me")
async def me(authorization: Annotated[str, Header()]) -> Me:
    """A fixed user for any bearer: the route's cost without auth or a database."""
    return Me(
        id=USER_ID,
        email=f"bare-{len(authorization)}@example.com",
        full_name=None,
        role="user",
        is_active=True,
        created_at=CREATED,
        updated_at=CREATED,
    )


@app.post("/api/v1/auth/login")
def login(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Tokens:
    """Check the password with bcrypt; a sync route runs in FastAPI's thread pool."""
    if not bcrypt.checkpw(form.password.encode(), hashed()):
        raise HTTPException(status_code=401, detail="Incorrect email or password")
    return Tokens(access_token=uuid.uuid4().hex)


@app.post("/stream")
async def stream() -> StreamingResponse:
    """One server-sent event, then the end of the stream."""

    async def events() -> AsyncIterator[bytes]:
        yield b'event: done\ndata: {"status": "completed"}\n\n'

    return StreamingResponse(events(), media_type="text/event-stream")
