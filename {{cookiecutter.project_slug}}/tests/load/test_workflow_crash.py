"""Workers killed (`kill -9`) mid-step and mid-approval: the next worker carries the run on.

An API process queues the run; a worker executes it. The first worker dies while the
analyst's agent run is in progress, the second while the run waits for an approval; a
third resumes it, and the approval sent to the API reaches it. No agent step runs twice.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.ai.workflows.examples import SOFTWARE_DELIVERY
from app.core.config import Settings
from app.db.session import Database
from app.models import Execution
from tests.support.served import served, service_env

pytestmark = pytest.mark.slow

API = "/api/v1"
RESUME_SECONDS = 60.0


def _wait(condition: Callable[[], bool], log_tail: Callable[[], str], what: str) -> None:
    deadline = time.monotonic() + RESUME_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} never happened: {log_tail()}")
        time.sleep(0.2)


class Client:
    """A signed-in user of the API process."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=30)
        email = f"crash-{uuid.uuid4().hex[:12]}@example.com"
        password = "correct-horse-42"
        self.http.post(f"{API}/auth/register", json={"email": email, "password": password})
        login = self.http.post(f"{API}/auth/login", data={"username": email, "password": password})
        self.headers = {"Authorization": f"Bearer {login.json()['access_token']}"}

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.http.post(f"{API}{path}", json=body, headers=self.headers)
        assert response.status_code < 300, response.text
        result: dict[str, Any] = response.json()
        return result

    def run(self, run_id: str) -> dict[str, Any]:
        response = self.http.get(f"{API}/workflow-runs/{run_id}", headers=self.headers)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def pipeline(self) -> str:
        ids = {}
        for agent in SOFTWARE_DELIVERY.agents:
            made = self.post("/agents", {"name": agent.name, "provider": "scripted"})
            ids[agent.key] = uuid.UUID(made["id"])
        workflow = self.post(
            "/workflows", {"name": "pipeline", "steps": SOFTWARE_DELIVERY.steps(ids)}
        )
        return str(workflow["id"])


def _step(run: dict[str, Any], step_id: str) -> dict[str, Any] | None:
    return next((r for r in run["steps"] if r["step_id"] == step_id), None)


async def _executions(database_url: str) -> int:
    database = Database(Settings(_env_file=None, database_url=database_url))
    try:
        async with database.transaction() as session:
            return int(await session.scalar(select(func.count()).select_from(Execution)) or 0)
    finally:
        await database.dispose()


async def test_a_workflow_survives_workers_killed_mid_step_and_mid_approval(
    service_settings: dict[str, str], tmp_path: Path
) -> None:
    env = service_env(
        DEFAULT_PROVIDER="scripted",
        SWEEP_INTERVAL_SECONDS="0.5",
        RUN_LEASE_SECONDS="2",
        **service_settings,
    )
    api_env = env | {"RUN_ROLE": "api"}
    with served(api_env, _folder(tmp_path, "api")) as api:
        user = Client(api.url)
        workflow_id = user.pipeline()
        with served(env, _folder(tmp_path, "w1"), run_worker=True) as first:
            run = user.post(
                f"/workflows/{workflow_id}/runs", {"input": "A login page\n!sleep 4\nPASS"}
            )
            run_id = run["id"]

            def analyst_running() -> bool:
                step = _step(user.run(run_id), "analyst")
                return step is not None and step["status"] == "running"

            _wait(analyst_running, first.log_tail, "the analyst starting")
            first.kill()

        with served(env, _folder(tmp_path, "w2"), run_worker=True) as second:

            def waiting() -> bool:
                shown = user.run(run_id)
                step = _step(shown, "review_stories")
                return step is not None and step["status"] == "waiting"

            _wait(waiting, second.log_tail, "the approval after the resumed analyst")
            second.kill()

        with served(env, _folder(tmp_path, "w3"), run_worker=True) as third:
            user.post(f"/workflow-runs/{run_id}/approvals/review_stories", {"approve": True})

            def at_release() -> bool:
                step = _step(user.run(run_id), "review_release")
                return step is not None and step["status"] == "waiting"

            _wait(
                at_release,
                lambda: f"{user.run(run_id)}\n{third.log_tail()}",
                "the pipeline reaching its release approval",
            )
            user.post(f"/workflow-runs/{run_id}/approvals/review_release", {"approve": True})
            _wait(lambda: user.run(run_id)["status"] == "completed", third.log_tail, "completion")
        done = user.run(run_id)

    assert [r["step_id"] for r in done["steps"]] == [
        "analyst",
        "review_stories",
        "architect",
        "developer",
        "tester",
        "check_tests",
        "review_release",
    ]
    assert done["output"].endswith("PASS")
    analyst = _step(done, "analyst")
    assert analyst is not None
    assert (
        analyst["output"] == "[scripted] Write user stories for this request:\nA login page\nPASS"
    )
    # One agent run per agent step: the analyst's was resumed, not started again.
    assert await _executions(service_settings["DATABASE_URL"]) == 4


def _folder(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    folder.mkdir(exist_ok=True)
    return folder
