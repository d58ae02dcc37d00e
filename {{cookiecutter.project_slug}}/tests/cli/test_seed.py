"""`make seed`: a demo user with example agents that can sign in, as often as it is run."""

from __future__ import annotations

import re

from app.ai.workflows.examples import EXAMPLES
from app.cli.seed import DEMO_EMAIL, EXAMPLE_AGENTS, generated_password
from app.schemas.user import check_password_strength
from tests.cli.conftest import RunCommand
from tests.support.factories import AppFactory, client_for

SIGN_IN = re.compile(r"^Demo user ready: (\S+) / (\S+)$", re.MULTILINE)


async def _listed_after_login(
    make_app: AppFactory, database_url: str, email: str, password: str, what: str
) -> list[dict[str, object]]:
    app = await make_app(database_url=database_url)
    async with client_for(app) as client:
        login = await client.post(
            "/api/v1/auth/login", data={"username": email, "password": password}
        )
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        page = (await client.get(f"/api/v1/{what}?limit=100", headers=headers)).json()
    items: list[dict[str, object]] = page["items"]
    return items


async def test_seed_prints_a_sign_in_that_works_and_is_idempotent(
    run_command: RunCommand, command_database: str, make_app: AppFactory
) -> None:
    first = run_command("seed", "--url", "http://localhost:8123")
    second = run_command("seed")

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert "http://localhost:8123/playground/" in first.stdout
    assert "(new: Assistant, Calculator)" in first.stdout
    assert "(new:" not in second.stdout
    match = SIGN_IN.search(second.stdout)
    assert match is not None, second.stdout
    email, password = match.groups()
    assert email == DEMO_EMAIL

    agents = await _listed_after_login(make_app, command_database, email, password, "agents")
    workflows = await _listed_after_login(make_app, command_database, email, password, "workflows")

    expected = [a.name for a in EXAMPLE_AGENTS] + [
        a.name for example in EXAMPLES for a in example.agents
    ]
    assert sorted(str(agent["name"]) for agent in agents) == sorted(expected)
    assert sorted(str(w["name"]) for w in workflows) == sorted(e.name for e in EXAMPLES)
    assert "Example workflows added: Software delivery, Support triage" in first.stdout
    assert "Example workflows added" not in second.stdout
    calculator = next(agent for agent in agents if agent["name"] == "Calculator")
    assert calculator["tools"] == ["calculator", "current_time"]
    assert calculator["provider"] == "scripted"


def test_seed_can_leave_out_the_workflows(run_command: RunCommand) -> None:
    completed = run_command("seed", "--no-workflows")

    assert completed.returncode == 0, completed.stderr
    assert "workflows" not in completed.stdout


def test_seed_is_refused_in_production(run_command: RunCommand) -> None:
    completed = run_command(
        "seed",
        ENVIRONMENT="production",
        SECRET_KEY="a-production-secret-key-of-48-characters-xxxxx",
    )

    assert completed.returncode == 1
    assert "refused in production" in completed.stderr


def test_generated_passwords_meet_the_sign_up_rules() -> None:
    passwords = {generated_password() for _ in range(20)}
    assert len(passwords) == 20
    for password in passwords:
        assert check_password_strength(password) == password
