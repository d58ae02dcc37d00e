"""An organisation's budget and run cap are shared by its members; its admins manage them."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI

from app.models import Execution, ExecutionStatus
from tests.support.builders import Builder
from tests.support.factories import AppFactory, SignedInUser, UserFactory, client_for
from tests.support.organizations import Team, make_team
from tests.support.runs import create_agent, execute

API = "/api/v1"


def _budget_url(team: Team) -> str:
    return f"{API}/organizations/{team.id}/budget"


async def test_owners_and_admins_manage_the_organisations_budget(
    client: httpx.AsyncClient,
    users: UserFactory,
    me: SignedInUser,
    stranger: SignedInUser,
) -> None:
    team = await make_team(client, users, me, "admin", "member", "viewer")
    url = _budget_url(team)

    unset = await client.get(url, headers=team.headers("admin"))
    put = await client.put(
        url, json={"daily_tokens": 1000, "concurrent_runs": 3}, headers=team.headers("admin")
    )
    read = await client.get(url, headers=team.headers("owner"))
    refused = [
        await client.request(method, url, json={}, headers=team.headers(role))
        for role in ("member", "viewer")
        for method in ("GET", "PUT", "DELETE")
    ]
    outsider = await client.get(url, headers=stranger.headers)
    removed = await client.delete(url, headers=team.headers("owner"))
    again = await client.delete(url, headers=team.headers("owner"))

    assert unset.status_code == 200, unset.text
    assert (unset.json()["is_default"], unset.json()["daily_tokens"]) == (True, None)
    assert put.status_code == 200, put.text
    body = read.json()
    assert (body["scope_kind"], body["scope_id"]) == ("organization", str(team.id))
    assert (body["daily_tokens"], body["concurrent_runs"], body["is_default"]) == (1000, 3, False)
    assert [r.status_code for r in refused] == [403] * 6
    assert all("budgets:manage" in r.json()["detail"] for r in refused)
    assert outsider.status_code == 404
    assert (removed.status_code, again.status_code) == (204, 404)
    audited = await client.get(
        f"{API}/audit", params={"action": "budget.set"}, headers=team.headers("admin")
    )
    assert [e["details"]["daily_tokens"] for e in audited.json()["items"]] == [1000]


async def test_a_user_budget_stays_the_administrators(
    client: httpx.AsyncClient, users: UserFactory, me: SignedInUser
) -> None:
    """An organisation's owner cannot cap what a member spends as a person."""
    team = await make_team(client, users, me, "member")
    member_id = team.members["member"].id

    answer = await client.put(
        f"{API}/budgets/user/{member_id}", json={"daily_tokens": 1}, headers=team.headers("owner")
    )

    assert answer.status_code == 403


async def test_members_share_the_organisations_daily_token_budget(
    client: httpx.AsyncClient, users: UserFactory, me: SignedInUser, build: Builder
) -> None:
    team = await make_team(client, users, me, "member", "admin")
    agent = await create_agent(client, team.headers("owner"), name="shared")
    url = _budget_url(team)
    assert (
        await client.put(url, json={"daily_tokens": 100_000}, headers=team.headers("owner"))
    ).is_success

    first = await execute(client, team.headers("member"), agent["id"], "spend the budget")
    assert first.status_code == 200, first.text
    spent = first.json()["input_tokens"] + first.json()["output_tokens"]
    counted = await client.get(url, headers=team.headers("owner"))
    used = {(u["metric"], u["period"]): u["used"] for u in counted.json()["usage"]}
    assert used[("tokens", "day")] == str(spent) != "0"
    # The owner lowers the shared budget to what the member's run spent: it is all gone.
    lowered = await client.put(url, json={"daily_tokens": spent}, headers=team.headers("owner"))
    assert lowered.status_code == 200, lowered.text

    second = await execute(client, team.headers("admin"), agent["id"], "anything left?")
    elsewhere = await create_agent(client, team.members["admin"].headers, name="mine")
    personal = await execute(client, team.members["admin"].headers, elsewhere["id"], "mine")

    assert second.status_code == 402, second.text
    body = second.json()
    budget = body["budget"]
    assert budget["scope"] == {"kind": "organization", "id": str(team.id)}
    assert (budget["metric"], budget["period"]) == ("tokens", "day")
    assert (budget["limit"], budget["used"]) == (str(spent), str(spent))
    assert budget["resets_at"] in body["detail"]
    assert int(second.headers["retry-after"]) >= 1
    # The admin's own workspace is not the team's: its runs do not draw on the team budget.
    assert personal.status_code == 200, personal.text
    assert await build.count(Execution) == 2


async def test_runs_over_the_organisations_cap_are_refused(
    make_app: AppFactory, build: Builder
) -> None:
    app = await make_app(organization_max_concurrent_runs=2)
    async with client_for(app) as client:
        users = UserFactory(client, app.state.database)
        owner = await users.signed_in()
        team = await make_team(client, users, owner, "member")
        agent = await build.agent(owner_id=owner.id, organization_id=team.id)
        conversation = await build.conversation(agent=agent)
        for status in (ExecutionStatus.PENDING, ExecutionStatus.RUNNING):
            await build.execution(conversation=conversation, status=status)

        refused = await execute(client, team.headers("member"), str(agent.id), "one more")
        personal_agent = await build.agent(owner_id=owner.id)
        personal = await execute(client, owner.headers, str(personal_agent.id), "mine")

    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "5"
    assert refused.json() == {
        "detail": "Your organization has 2 runs in progress; wait for one to finish"
    }
    assert personal.status_code == 200, personal.text


async def test_the_organisations_usage_counts_every_members_runs(
    app: FastAPI, client: httpx.AsyncClient, users: UserFactory, me: SignedInUser
) -> None:
    team = await make_team(client, users, me, "member", "viewer")
    agent = await create_agent(client, team.headers("owner"), name="shared")
    for role in ("owner", "member"):
        assert (await execute(client, team.headers(role), agent["id"], "hi")).status_code == 200

    report = await client.get(f"{API}/usage/organization", headers=team.headers("owner"))
    mine = await client.get(f"{API}/usage", headers=team.headers("member"))
    refused = await client.get(f"{API}/usage/organization", headers=team.headers("viewer"))

    assert report.status_code == 200, report.text
    body = report.json()
    assert body["totals"]["runs"] == 2
    assert [(row["agent_name"], row["runs"]) for row in body["items"]] == [("shared", 2)]
    assert [(b["scope_kind"], b["scope_id"]) for b in body["budgets"]] == [
        ("organization", str(team.id))
    ]
    assert mine.json()["totals"]["runs"] == 1
    assert mine.json()["budgets"][0]["scope_id"] == str(team.members["member"].id)
    assert refused.status_code == 403
    assert "usage:read" in refused.json()["detail"]


async def test_an_unknown_organisation_has_no_budget_to_manage(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    answer = await client.get(f"{API}/organizations/{uuid.uuid4()}/budget", headers=me.headers)

    assert answer.status_code == 404
