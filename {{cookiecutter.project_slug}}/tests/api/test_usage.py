"""The usage report: runs, tokens and cost per day, agent and model, for the caller only."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import httpx

from app.models import ExecutionStatus
from tests.support.builders import Builder
from tests.support.factories import SignedInUser, UserFactory

USAGE = "/api/v1/usage"


async def _run(
    build: Builder,
    owner: SignedInUser,
    *,
    name: str,
    model: str,
    day: datetime,
    tokens: tuple[int, int],
    cost: str,
) -> None:
    agent = await build.agent(owner_id=owner.id, name=name, model=model)
    conversation = await build.conversation(agent=agent)
    await build.execution(
        conversation=conversation,
        status=ExecutionStatus.COMPLETED,
        created_at=day,
        input_tokens=tokens[0],
        output_tokens=tokens[1],
        cost=Decimal(cost),
    )


async def test_usage_is_summed_per_day_agent_and_model(
    client: httpx.AsyncClient, users: UserFactory, build: Builder
) -> None:
    me = await users.signed_in()
    other = await users.signed_in()
    first = datetime(2026, 11, 3, 10, tzinfo=UTC)
    second = datetime(2026, 11, 4, 23, 30, tzinfo=UTC)
    agent = await build.agent(owner_id=me.id, name="writer", model="gpt-4o-mini")
    conversation = await build.conversation(agent=agent)
    for tokens, cost in (((10, 20), "0.001"), ((30, 40), "0.002")):
        await build.execution(
            conversation=conversation,
            status=ExecutionStatus.COMPLETED,
            created_at=first,
            input_tokens=tokens[0],
            output_tokens=tokens[1],
            cost=Decimal(cost),
        )
    await build.execution(
        conversation=conversation,
        status=ExecutionStatus.FAILED,
        created_at=second,
        input_tokens=5,
        output_tokens=0,
        cost=Decimal("0.0001"),
    )
    await _run(build, me, name="reader", model="scripted", day=first, tokens=(1, 2), cost="0")
    await _run(build, other, name="theirs", model="gpt-4o", day=first, tokens=(9, 9), cost="1")
    await _run(
        build,
        me,
        name="later",
        model="gpt-4o",
        day=datetime(2026, 11, 9, tzinfo=UTC),
        tokens=(7, 7),
        cost="0.5",
    )

    response = await client.get(
        USAGE, params={"start": "2026-11-03", "end": "2026-11-05"}, headers=me.headers
    )

    assert response.status_code == 200, response.text
    report = response.json()
    rows = [
        (r["day"], r["agent_name"], r["model"], r["runs"], r["input_tokens"], r["output_tokens"])
        for r in report["items"]
    ]
    assert rows == [
        ("2026-11-03", "reader", "scripted", 1, 1, 2),
        ("2026-11-03", "writer", "gpt-4o-mini", 2, 40, 60),
        ("2026-11-04", "writer", "gpt-4o-mini", 1, 5, 0),
    ]
    assert Decimal(report["items"][1]["cost"]) == Decimal("0.003")
    totals = report["totals"]
    assert (totals["runs"], totals["input_tokens"], totals["output_tokens"]) == (4, 46, 62)
    assert Decimal(totals["cost"]) == Decimal("0.0031")
    assert [b["scope_kind"] for b in report["budgets"]] == ["user"]


async def test_a_bad_range_is_refused(
    client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    backwards = await client.get(
        USAGE, params={"start": "2026-11-05", "end": "2026-11-01"}, headers=auth_headers
    )
    too_long = await client.get(
        USAGE, params={"start": "2020-01-01", "end": "2026-11-01"}, headers=auth_headers
    )
    not_a_date = await client.get(USAGE, params={"start": "yesterday"}, headers=auth_headers)
    default = await client.get(USAGE, headers=auth_headers)

    assert backwards.status_code == 422
    assert "before start" in backwards.json()["detail"][0]["msg"]
    assert too_long.status_code == 422
    assert not_a_date.status_code == 422
    assert default.status_code == 200
    assert default.json()["items"] == []
