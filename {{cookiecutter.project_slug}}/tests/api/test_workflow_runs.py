"""Workflow runs end to end through the API, on the offline scripted provider.

The scripted agents echo their input, and every step's template ends with the step
before it, so the last line of a run's input is the tester's verdict (PASS or FAIL).
"""

from __future__ import annotations

from typing import Any

import httpx
from dbos import DBOS

from app.ai.workflows.examples import SOFTWARE_DELIVERY, TRIAGE
from tests.support.factories import SignedInUser
from tests.support.workflows import API, create_example, decide, run_when, start_run


def _passes(run: dict[str, Any], step: str) -> list[dict[str, Any]]:
    return [record for record in run["steps"] if record["step_id"] == step]


async def test_the_pipeline_waits_for_approval_after_the_analyst_and_runs_on_when_approved(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    workflow = await create_example(client, me.headers, SOFTWARE_DELIVERY)
    run_id = await start_run(client, me.headers, workflow["id"], "A login page\nPASS")

    waiting = await run_when(client, me.headers, run_id, "waiting", waiting_at="review_stories")
    assert [record["step_id"] for record in waiting["steps"]] == ["analyst", "review_stories"]
    analyst = _passes(waiting, "analyst")[0]
    assert analyst["status"] == "completed"
    assert analyst["output"].startswith("[scripted] Write user stories")
    assert analyst["execution_id"] is not None
    assert analyst["input_tokens"] > 0

    response = await decide(client, me.headers, run_id, "review_stories", approve=True)
    assert response.status_code == 200, response.text
    decided = response.json()
    assert decided["status"] == "running"
    assert _passes(decided, "review_stories")[0]["status"] == "approved"
    at_release = await run_when(client, me.headers, run_id, "waiting", waiting_at="review_release")
    assert [r["step_id"] for r in at_release["steps"]] == [
        "analyst",
        "review_stories",
        "architect",
        "developer",
        "tester",
        "check_tests",
        "review_release",
    ]
    response = await decide(client, me.headers, run_id, "review_release", approve=True)
    assert response.status_code == 200, response.text
    done = await run_when(client, me.headers, run_id, "completed")
    assert done["output"].endswith("PASS")
    assert done["input_tokens"] == sum(r["input_tokens"] for r in done["steps"])
    assert float(done["cost"]) >= 0


async def test_a_rejection_ends_the_run_with_its_reason(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    workflow = await create_example(client, me.headers, SOFTWARE_DELIVERY)
    run_id = await start_run(client, me.headers, workflow["id"], "A login page\nPASS")
    await run_when(client, me.headers, run_id, "waiting", waiting_at="review_stories")

    response = await decide(
        client, me.headers, run_id, "review_stories", approve=False, comment="Too vague"
    )
    assert response.status_code == 200, response.text
    failed = await run_when(client, me.headers, run_id, "failed")
    assert failed["error_type"] == "rejected"
    assert "Too vague" in failed["error_message"]
    assert _passes(failed, "architect") == []


async def test_an_edited_value_replaces_the_output_the_next_step_reads(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    workflow = await create_example(client, me.headers, SOFTWARE_DELIVERY)
    run_id = await start_run(client, me.headers, workflow["id"], "A login page\nPASS")
    await run_when(client, me.headers, run_id, "waiting", waiting_at="review_stories")

    edited = "As a user I sign in with a passkey.\nPASS"
    response = await decide(
        client, me.headers, run_id, "review_stories", approve=True, edited_output=edited
    )
    assert response.status_code == 200, response.text
    at_release = await run_when(client, me.headers, run_id, "waiting", waiting_at="review_release")
    architect = _passes(at_release, "architect")[0]
    assert architect["input"] == f"Design a solution for these user stories:\n{edited}"


async def test_failed_tests_go_back_to_the_developer_at_most_twice(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    workflow = await create_example(client, me.headers, SOFTWARE_DELIVERY)
    run_id = await start_run(client, me.headers, workflow["id"], "A login page\nFAIL")
    await run_when(client, me.headers, run_id, "waiting", waiting_at="review_stories")
    await decide(client, me.headers, run_id, "review_stories", approve=True)

    at_release = await run_when(client, me.headers, run_id, "waiting", waiting_at="review_release")
    assert [r["iteration"] for r in _passes(at_release, "developer")] == [1, 2, 3]
    assert [r["iteration"] for r in _passes(at_release, "tester")] == [1, 2, 3]
    branch_targets = [r["output"] for r in _passes(at_release, "check_tests")]
    assert branch_targets == ["developer", "developer", "review_release"]
    # The second pass sees the first pass's failing report.
    assert "FAIL" in _passes(at_release, "developer")[1]["input"]


async def test_triage_routes_to_the_specialist_the_label_names(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    workflow = await create_example(client, me.headers, TRIAGE)
    run_id = await start_run(client, me.headers, workflow["id"], "My invoice is wrong\nBILLING")
    done = await run_when(client, me.headers, run_id, "completed")
    assert [r["step_id"] for r in done["steps"]] == ["classify", "route", "billing"]
    assert done["output"].startswith("[scripted] Answer this billing request")
    # Its outcome is stored once whoever writes it, so writing it costs no recorded step.
    recorded = await DBOS.list_workflow_steps_async(run_id)
    assert recorded[0]["function_name"] == "workflow_begin"
    assert "workflow_branch" in [step["function_name"] for step in recorded]
    assert recorded[-1]["function_name"] != "workflow_finish"


async def test_only_the_owner_or_a_named_approver_decides(
    client: httpx.AsyncClient, me: SignedInUser, stranger: SignedInUser, users: Any
) -> None:
    approver = await users.signed_in()
    workflow = await create_example(client, me.headers, SOFTWARE_DELIVERY)
    steps = workflow["steps"]
    steps[1]["approvers"] = [approver.email]
    response = await client.patch(
        f"{API}/workflows/{workflow['id']}", json={"steps": steps}, headers=me.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 2
    run_id = await start_run(client, me.headers, workflow["id"], "A login page\nPASS")
    await run_when(client, me.headers, run_id, "waiting", waiting_at="review_stories")

    refused = await decide(client, stranger.headers, run_id, "review_stories", approve=True)
    assert refused.status_code == 404
    assert (
        await client.get(f"{API}/workflow-runs/{run_id}", headers=stranger.headers)
    ).status_code == 404
    # Named for the first approval only: the approver cannot decide the release.
    accepted = await decide(client, approver.headers, run_id, "review_stories", approve=True)
    assert accepted.status_code == 200, accepted.text
    await run_when(client, me.headers, run_id, "waiting", waiting_at="review_release")
    late = await decide(client, approver.headers, run_id, "review_release", approve=True)
    assert late.status_code == 404
    again = await decide(client, me.headers, run_id, "review_stories", approve=True)
    assert again.status_code == 409


async def test_a_cancelled_run_stops_waiting(client: httpx.AsyncClient, me: SignedInUser) -> None:
    workflow = await create_example(client, me.headers, SOFTWARE_DELIVERY)
    run_id = await start_run(client, me.headers, workflow["id"], "A login page\nPASS")
    await run_when(client, me.headers, run_id, "waiting", waiting_at="review_stories")

    response = await client.post(f"{API}/workflow-runs/{run_id}/cancel", headers=me.headers)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "cancelled"
    refused = await decide(client, me.headers, run_id, "review_stories", approve=True)
    assert refused.status_code == 409
    again = await client.post(f"{API}/workflow-runs/{run_id}/cancel", headers=me.headers)
    assert again.status_code == 409
