"""A run's tool calls are audited with the step that stores their results."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from app.core.audit_chain import arguments_hash
from app.crud.audit_verify import verify
from app.db.session import Database
from app.models import AuditEntry
from tests.support.factories import SignedInUser
from tests.support.runs import create_agent, execute


async def _tool_entries(database: Database) -> list[AuditEntry]:
    async with database.transaction() as session:
        rows = await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "tool.executed")
            .order_by(AuditEntry.sequence)
        )
        return list(rows)


async def test_each_tool_call_of_a_run_records_its_name_and_argument_hash(
    client: httpx.AsyncClient, me: SignedInUser, database: Database
) -> None:
    agent = await create_agent(client, me.headers, tools=["calculator", "current_time"])
    message = '!tool calculator {"expression": "6*7"}\n!tool current_time {"timezone": "UTC"}'

    response = await execute(client, me.headers | {"X-Request-ID": "run-1"}, agent["id"], message)

    assert response.status_code == 200, response.text
    execution = response.json()
    assert execution["status"] == "completed", execution
    entries = await _tool_entries(database)
    assert [entry.details["tool"] for entry in entries] == ["calculator", "current_time"]
    assert [entry.details["arguments_sha256"] for entry in entries] == [
        arguments_hash({"expression": "6*7"}),
        arguments_hash({"timezone": "UTC"}),
    ]
    for entry in entries:
        assert (entry.actor_id, entry.target_type) == (me.id, "execution")
        assert entry.target_id == execution["id"]
        assert entry.request_id == "run-1"
        assert entry.details["is_error"] is False
        assert "6*7" not in str(entry.details)
    async with database.transaction() as session:
        assert (await verify(session)).ok


async def test_a_call_with_unreadable_arguments_hashes_the_text_sent(
    client: httpx.AsyncClient, me: SignedInUser, database: Database
) -> None:
    agent = await create_agent(client, me.headers, tools=["calculator"])

    response = await execute(client, me.headers, agent["id"], "!tool calculator {not json")

    assert response.status_code == 200, response.text
    [entry] = await _tool_entries(database)
    assert entry.details["is_error"] is True
    assert entry.details["arguments_sha256"] == arguments_hash("{not json")
