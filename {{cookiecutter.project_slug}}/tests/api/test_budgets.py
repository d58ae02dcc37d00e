"""Budget management: administrators set, read and remove budgets; nobody else may."""

from __future__ import annotations

import uuid
from decimal import Decimal

import httpx

from tests.support.factories import UserFactory
from tests.support.organizations import make_team

BUDGETS = "/api/v1/budgets"


async def test_an_admin_sets_reads_and_removes_a_users_budget(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    admin = await users.signed_in(admin=True)
    someone = await users.signed_in()
    url = f"{BUDGETS}/user/{someone.id}"
    limits = {"daily_tokens": 10_000, "monthly_cost": "25.50", "concurrent_runs": 2}

    before = await client.get(url, headers=admin.headers)
    put = await client.put(url, json=limits, headers=admin.headers)
    read = await client.get(url, headers=admin.headers)
    deleted = await client.delete(url, headers=admin.headers)
    after = await client.get(url, headers=admin.headers)
    again = await client.delete(url, headers=admin.headers)

    assert before.status_code == 200
    assert before.json()["is_default"] is True
    assert put.status_code == 200, put.text
    body = read.json()
    assert body["is_default"] is False
    assert (body["scope_kind"], body["scope_id"]) == ("user", str(someone.id))
    assert body["daily_tokens"] == 10_000
    assert body["monthly_tokens"] is None
    assert Decimal(body["monthly_cost"]) == Decimal("25.50")
    assert body["concurrent_runs"] == 2
    usage = {(u["metric"], u["period"]): u for u in body["usage"]}
    assert Decimal(usage[("tokens", "day")]["used"]) == 0
    assert Decimal(usage[("tokens", "day")]["limit"]) == 10_000
    assert usage[("cost", "month")]["limit"] is not None
    assert usage[("cost", "day")]["limit"] is None
    assert deleted.status_code == 204
    assert after.json()["is_default"] is True
    assert again.status_code == 404


async def test_an_organisations_budget_is_kept_by_its_id(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    admin = await users.signed_in(admin=True)
    team = await make_team(client, users, await users.signed_in())
    url = f"{BUDGETS}/organization/{team.id}"

    put = await client.put(url, json={"monthly_tokens": 5}, headers=admin.headers)
    read = await client.get(url, headers=admin.headers)
    unknown = await client.get(f"{BUDGETS}/organization/{uuid.uuid4()}", headers=admin.headers)

    assert put.status_code == 200
    assert read.json()["monthly_tokens"] == 5
    assert unknown.status_code == 404


async def test_budgets_are_for_administrators_only(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    me = await users.signed_in()
    url = f"{BUDGETS}/user/{me.id}"

    answers = [
        await client.get(url, headers=me.headers),
        await client.put(url, json={"daily_tokens": 10**9}, headers=me.headers),
        await client.delete(url, headers=me.headers),
    ]

    assert [a.status_code for a in answers] == [403, 403, 403]


async def test_bad_budgets_are_refused_with_the_field_named(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    admin = await users.signed_in(admin=True)
    url = f"{BUDGETS}/user/{admin.id}"

    negative = await client.put(url, json={"daily_tokens": -1}, headers=admin.headers)
    unknown = await client.put(url, json={"daily_dollars": 5}, headers=admin.headers)
    too_precise = await client.put(url, json={"daily_cost": "0.0000001"}, headers=admin.headers)
    bad_kind = await client.get(f"{BUDGETS}/team/{admin.id}", headers=admin.headers)
    bad_id = await client.get(f"{BUDGETS}/user/not-a-uuid", headers=admin.headers)
    missing_user = await client.get(f"{BUDGETS}/user/{uuid.uuid4()}", headers=admin.headers)

    assert negative.status_code == 422
    assert negative.json()["detail"][0]["loc"] == ["body", "daily_tokens"]
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["loc"] == ["body", "daily_dollars"]
    assert too_precise.status_code == 422
    assert bad_kind.status_code == 422
    assert bad_kind.json()["detail"][0]["loc"] == ["path", "scope_kind"]
    assert bad_id.status_code == 422
    assert missing_user.status_code == 404
