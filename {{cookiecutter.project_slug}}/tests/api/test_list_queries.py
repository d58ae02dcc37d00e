"""Every list endpoint reads a page in the same few statements, however long the list.

Each list is read with one row and with many; the statements sent must be the same in
number (no query per row) and stay within the endpoint's bound: who is calling, their
membership of the active organisation, the total, the page, and the parent a nested list
belongs to.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest

from app.crud import api_key as api_key_crud
from app.db.session import Database
from app.models import Agent, Conversation
from tests.support.builders import Builder, add_user
from tests.support.factories import UserFactory
from tests.support.statements import StatementLog, counting_statements

MANY = 25


class Arrange:
    """Rows for the caller's lists, with the agent and conversation they hang from."""

    def __init__(self, build: Builder, database: Database, owner_id: uuid.UUID) -> None:
        self.build = build
        self.database = database
        self.owner_id = owner_id
        self._agent: Agent | None = None
        self._conversation: Conversation | None = None

    async def agent(self) -> Agent:
        if self._agent is None:
            self._agent = await self.build.agent(owner_id=self.owner_id)
        return self._agent

    async def conversation(self) -> Conversation:
        if self._conversation is None:
            self._conversation = await self.build.conversation(agent=await self.agent())
        return self._conversation


async def _add_agent(arrange: Arrange) -> None:
    await arrange.build.agent(owner_id=arrange.owner_id)


async def _add_conversation(arrange: Arrange) -> None:
    await arrange.build.conversation(agent=await arrange.agent())


async def _add_message(arrange: Arrange) -> None:
    await arrange.build.message(conversation=await arrange.conversation())


async def _add_execution(arrange: Arrange) -> None:
    await arrange.build.execution(conversation=await arrange.conversation())


async def _add_api_key(arrange: Arrange) -> None:
    async with arrange.database.transaction() as session:
        await api_key_crud.create(session, owner_id=arrange.owner_id, name="key", expires_at=None)


async def _add_user(arrange: Arrange) -> None:
    async with arrange.database.transaction() as session:
        await add_user(session)


async def _messages_path(arrange: Arrange) -> str:
    return f"/api/v1/conversations/{(await arrange.conversation()).id}/messages"


@dataclass(frozen=True)
class Listing:
    """One list endpoint: where it is, how to add a row to it, and its statement bound."""

    name: str
    path: Callable[[Arrange], Awaitable[str]]
    add: Callable[[Arrange], Awaitable[None]]
    bound: int
    # Rows listed before any is added: the users list shows the caller.
    present: int = 0
    items: str = "items"


def _at(path: str) -> Callable[[Arrange], Awaitable[str]]:
    async def fixed(_arrange: Arrange) -> str:
        return path

    return fixed


# Lists of an organisation's rows read the caller's membership of it first.
MEMBERSHIP = 1

LISTINGS = [
    # Agents: one more for the knowledge bases of the whole page at once (selectin).
    Listing("agents", _at("/api/v1/agents"), _add_agent, bound=4 + MEMBERSHIP),
    Listing("conversations", _at("/api/v1/conversations"), _add_conversation, bound=3 + MEMBERSHIP),
    Listing("messages", _messages_path, _add_message, bound=4 + MEMBERSHIP),
    Listing("executions", _at("/api/v1/executions"), _add_execution, bound=3 + MEMBERSHIP),
    Listing("api-keys", _at("/api/v1/api-keys"), _add_api_key, bound=3),
    Listing("users", _at("/api/v1/users"), _add_user, bound=3, present=1),
    Listing("openai-models", _at("/v1/models"), _add_agent, bound=3 + MEMBERSHIP, items="data"),
]


async def _read(
    client: httpx.AsyncClient, database: Database, path: str, headers: dict[str, str], items: str
) -> tuple[int, StatementLog]:
    """How many rows the list showed, and the statements reading it took."""
    with counting_statements(database) as log:
        response = await client.get(path, params={"limit": 100}, headers=headers)
    assert response.status_code == 200, response.text
    return len(response.json()[items]), log


@pytest.mark.parametrize("listing", LISTINGS, ids=lambda listing: listing.name)
async def test_a_list_takes_the_same_few_statements_for_one_row_or_many(
    listing: Listing,
    client: httpx.AsyncClient,
    users: UserFactory,
    build: Builder,
    database: Database,
) -> None:
    caller = await users.signed_in(admin=True)
    arrange = Arrange(build, database, caller.id)
    for _ in range(1 - listing.present):
        await listing.add(arrange)
    path = await listing.path(arrange)
    await _read(client, database, path, caller.headers, listing.items)

    one, with_one = await _read(client, database, path, caller.headers, listing.items)
    for _ in range(MANY - 1):
        await listing.add(arrange)
    many, with_many = await _read(client, database, path, caller.headers, listing.items)

    assert (one, many) == (1, MANY)
    assert len(with_many) == len(with_one), f"{with_one}\n{with_many}"
    assert len(with_many) <= listing.bound, str(with_many)


async def test_the_tool_list_reads_nothing_but_the_caller(
    client: httpx.AsyncClient, users: UserFactory, database: Database
) -> None:
    caller = await users.signed_in()

    with counting_statements(database) as log:
        response = await client.get("/api/v1/tools", headers=caller.headers)

    assert response.status_code == 200, response.text
    assert response.json()["items"]
    assert len(log) <= 1, str(log)
