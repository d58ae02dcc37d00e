"""Bursts of simultaneous runs against a served process, and what they left in the database."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import func, select

from app.core.config import Settings
from app.db.session import Database
from app.models import Conversation, Execution, Message
from tests.support.factories import DEFAULT_PASSWORD
from tests.support.runs import parse_sse

# Per-user limits out of the way: a burst from few users measures the worker, not them.
UNLIMITED_USERS = {
    "MAX_CONCURRENT_RUNS_PER_USER": "100000",
    "USER_RUN_RATE_LIMIT": "1000000/minute",
}
REQUEST_SECONDS = 45.0
FINAL_EVENTS = frozenset({"execution.completed", "execution.failed"})


@dataclass(frozen=True)
class Answer:
    """One request's answer: its status, Retry-After, and the body (or the SSE events)."""

    status: int
    retry_after: str | None
    body: Any
    events: tuple[tuple[str, Any], ...] = ()

    @property
    def refused(self) -> bool:
        """Shed cleanly: a 503 or 429 that tells the client when to come back."""
        return self.status in (429, 503) and bool(self.retry_after)


async def sign_in(http: httpx.AsyncClient) -> tuple[uuid.UUID, dict[str, str]]:
    """Register a user; their id and authorization headers."""
    email = f"load-{uuid.uuid4().hex[:12]}@example.com"
    registered = await http.post(
        "/api/v1/auth/register", json={"email": email, "password": DEFAULT_PASSWORD}
    )
    assert registered.status_code == 201, registered.text
    login = await http.post(
        "/api/v1/auth/login", data={"username": email, "password": DEFAULT_PASSWORD}
    )
    assert login.status_code == 200, login.text
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    me = await http.get("/api/v1/users/me", headers=headers)
    return uuid.UUID(me.json()["id"]), headers


async def create_agent(http: httpx.AsyncClient, headers: dict[str, str], **fields: Any) -> str:
    """An agent's id; `fields` choose its provider and model."""
    body = {"name": "load", "system_prompt": "Be brief.", **fields}
    response = await http.post("/api/v1/agents", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def execute(
    http: httpx.AsyncClient, headers: dict[str, str], agent_id: str, message: str
) -> Answer:
    """One run, answered as JSON."""
    response = await http.post(
        f"/api/v1/agents/{agent_id}/execute", json={"message": message}, headers=headers
    )
    return Answer(response.status_code, response.headers.get("retry-after"), response.json())


async def execute_streaming(
    http: httpx.AsyncClient, headers: dict[str, str], agent_id: str, message: str
) -> Answer:
    """One run as server-sent events, read to the end of the stream."""
    async with http.stream(
        "POST",
        f"/api/v1/agents/{agent_id}/execute",
        json={"message": message, "stream": True},
        headers=headers,
    ) as response:
        text = (await response.aread()).decode()
    retry_after = response.headers.get("retry-after")
    if response.status_code != 200:
        return Answer(response.status_code, retry_after, text)
    return Answer(200, retry_after, None, tuple(parse_sse(text)))


async def burst(
    url: str, users: list[dict[str, str]], agent_ids: list[str], count: int, *, stream: bool
) -> list[Answer]:
    """`count` runs sent at once, spread over the users; every answer, in sending order."""
    limits = httpx.Limits(max_connections=count + 10, max_keepalive_connections=count + 10)
    timeout = httpx.Timeout(REQUEST_SECONDS, connect=REQUEST_SECONDS)
    send = execute_streaming if stream else execute
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=timeout) as http:
        return list(
            await asyncio.gather(
                *(
                    send(http, users[n % len(users)], agent_ids[n % len(users)], f"run {n}")
                    for n in range(count)
                )
            )
        )


def statuses(answers: list[Answer]) -> Counter[str]:
    """How many answers ended each way (HTTP status, run status, error), for assertion messages."""
    return Counter(_outcome(answer) for answer in answers)


def _outcome(answer: Answer) -> str:
    """`200 failed provider.connection`, `503`: enough to tell why a run did not complete."""
    body = answer.body if isinstance(answer.body, dict) else {}
    parts = [str(answer.status), body.get("status"), body.get("error_type")]
    return " ".join(str(part) for part in parts if part)


@dataclass(frozen=True)
class Stored:
    """What the database holds after a burst."""

    executions: Counter[str]
    conversations: int
    messages: Counter[str]
    messages_per_conversation: Counter[int]


async def stored(database_url: str, owners: list[uuid.UUID]) -> Stored:
    """The owners' executions by status and messages by role, straight from the database."""
    database = Database(Settings(_env_file=None, database_url=database_url))
    try:
        async with database.transaction() as session:
            by_status = await session.execute(
                select(Execution.status, func.count())
                .where(Execution.owner_id.in_(owners))
                .group_by(Execution.status)
            )
            theirs = select(Conversation.id).where(Conversation.owner_id.in_(owners))
            by_role = await session.execute(
                select(Message.role, func.count())
                .where(Message.conversation_id.in_(theirs))
                .group_by(Message.role)
            )
            per_conversation = await session.execute(
                select(func.count())
                .select_from(Message)
                .where(Message.conversation_id.in_(theirs))
                .group_by(Message.conversation_id)
            )
            conversations = await session.scalar(
                select(func.count()).select_from(theirs.subquery())
            )
            return Stored(
                executions=Counter({status.value: n for status, n in by_status.all()}),
                conversations=int(conversations or 0),
                messages=Counter({role.value: n for role, n in by_role.all()}),
                messages_per_conversation=Counter(n for (n,) in per_conversation.all()),
            )
    finally:
        await database.dispose()
