"""A team's workflows: members run them and decide their approvals, viewers only read."""

from __future__ import annotations

import httpx

from app.ai.workflows.examples import SOFTWARE_DELIVERY
from tests.support.factories import SignedInUser, UserFactory
from tests.support.organizations import make_team
from tests.support.workflows import API, create_example, decide, run_when, start_run


async def test_a_member_runs_the_teams_workflow_and_approves_its_step(
    client: httpx.AsyncClient, users: UserFactory, me: SignedInUser
) -> None:
    team = await make_team(client, users, me, "member")
    member = team.members["member"]
    workflow = await create_example(client, team.headers("owner"), SOFTWARE_DELIVERY)
    assert workflow["organization_id"] == str(team.id)

    run_id = await start_run(client, team.headers("member"), workflow["id"], "A login page\nPASS")
    await run_when(client, team.headers("member"), run_id, "waiting", waiting_at="review_stories")
    decided = await decide(client, team.headers("member"), run_id, "review_stories", approve=True)

    assert decided.status_code == 200, decided.text
    [approval] = [s for s in decided.json()["steps"] if s["step_id"] == "review_stories"]
    assert approval["status"] == "approved"
    assert approval["decided_by"] == str(member.id)
    seen_by_owner = await client.get(
        f"{API}/workflow-runs",
        params={"workflow_id": workflow["id"]},
        headers=team.headers("owner"),
    )
    assert [run["id"] for run in seen_by_owner.json()["items"]] == [run_id]
    personal = await client.get(f"{API}/workflow-runs", headers=member.headers)
    assert personal.json()["items"] == []
    # The member's approval took the run on to the release review, where it waits again.
    await run_when(client, team.headers("member"), run_id, "waiting", waiting_at="review_release")


async def test_a_viewer_reads_the_teams_workflows_but_may_not_change_run_or_decide(
    client: httpx.AsyncClient, users: UserFactory, me: SignedInUser
) -> None:
    team = await make_team(client, users, me, "viewer")
    viewer = team.headers("viewer")
    workflow = await create_example(client, team.headers("owner"), SOFTWARE_DELIVERY)
    run_id = await start_run(client, team.headers("owner"), workflow["id"], "A login page\nPASS")
    await run_when(client, team.headers("owner"), run_id, "waiting", waiting_at="review_stories")
    path = f"{API}/workflows/{workflow['id']}"

    assert (await client.get(path, headers=viewer)).status_code == 200
    assert (await client.get(f"{API}/workflows", headers=viewer)).json()["total"] == 1
    assert (await client.get(f"{API}/workflow-runs/{run_id}", headers=viewer)).status_code == 200
    refused = [
        await client.post(f"{API}/workflows", json={"name": "x", "steps": []}, headers=viewer),
        await client.patch(path, json={"name": "renamed"}, headers=viewer),
        await client.delete(path, headers=viewer),
        await client.post(f"{path}/runs", json={"input": "again"}, headers=viewer),
        await decide(client, viewer, run_id, "review_stories", approve=True),
        await client.post(f"{API}/workflow-runs/{run_id}/cancel", headers=viewer),
    ]
    assert [response.status_code for response in refused] == [403] * len(refused)
    assert "workflows:" in refused[0].json()["detail"]
    still = await run_when(client, team.headers("owner"), run_id, "waiting")
    assert [s["status"] for s in still["steps"] if s["step_id"] == "review_stories"] == ["waiting"]


async def test_a_teams_workflow_is_not_found_outside_the_team(
    client: httpx.AsyncClient, users: UserFactory, me: SignedInUser
) -> None:
    team = await make_team(client, users, me, "member")
    workflow = await create_example(client, team.headers("owner"), SOFTWARE_DELIVERY)
    path = f"{API}/workflows/{workflow['id']}"

    assert (await client.get(path, headers=team.members["member"].headers)).status_code == 404
    assert (await client.get(path, headers=me.headers)).status_code == 404
    stranger = await users.signed_in()
    outsider = {**stranger.headers, "X-Organization-Id": str(team.id)}
    assert (await client.get(path, headers=outsider)).status_code == 404
