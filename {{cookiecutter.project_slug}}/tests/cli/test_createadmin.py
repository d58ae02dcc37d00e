"""`make createadmin` as an operator runs it: from the environment, or answering prompts."""

from __future__ import annotations

import pytest

from app.cli.createadmin import ask_credentials
from app.crud.accounts import AccountError
from tests.cli.conftest import RunCommand
from tests.support.factories import AppFactory, client_for

PASSWORD = "admin-password-42"


async def _role_after_login(
    make_app: AppFactory, database_url: str, email: str, password: str
) -> str:
    app = await make_app(database_url=database_url)
    async with client_for(app) as client:
        login = await client.post(
            "/api/v1/auth/login", data={"username": email, "password": password}
        )
        assert login.status_code == 200, login.text
        token = login.json()["access_token"]
        me = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    role: str = me.json()["role"]
    return role


async def test_environment_variables_create_an_admin_non_interactively(
    run_command: RunCommand, command_database: str, make_app: AppFactory
) -> None:
    completed = run_command("createadmin", ADMIN_EMAIL="Boss@Example.com", ADMIN_PASSWORD=PASSWORD)

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "Created admin Boss@Example.com."
    assert (
        await _role_after_login(make_app, command_database, "boss@example.com", PASSWORD) == "admin"
    )


async def test_prompts_read_the_answers_and_a_second_run_promotes(
    run_command: RunCommand, command_database: str, make_app: AppFactory
) -> None:
    first = run_command("createadmin", stdin=f"ops@example.com\n{PASSWORD}\n{PASSWORD}\n")
    again = run_command("createadmin", stdin="ops@example.com\nnew-password-7\nnew-password-7\n")

    assert first.returncode == 0, first.stderr
    assert "Admin email: " in first.stdout
    assert "Created admin ops@example.com." in first.stdout
    assert again.returncode == 0, again.stderr
    assert "now an enabled admin with the new password" in again.stdout
    role = await _role_after_login(make_app, command_database, "ops@example.com", "new-password-7")
    assert role == "admin"


@pytest.mark.parametrize(
    ("stdin", "env", "reason"),
    [
        (f"ops@example.com\n{PASSWORD}\nother-password-1\n", {}, "the two passwords differ"),
        ("", {"ADMIN_EMAIL": "ops@example.com", "ADMIN_PASSWORD": "short"}, "at least"),
        ("", {"ADMIN_PASSWORD": PASSWORD}, "input ended"),
        ("nobody\n", {"ADMIN_PASSWORD": PASSWORD}, "email"),
    ],
    ids=["mistyped_repeat", "weak_password", "no_input", "bad_email"],
)
def test_refusals_exit_1_with_the_reason(
    run_command: RunCommand, stdin: str, env: dict[str, str], reason: str
) -> None:
    completed = run_command("createadmin", stdin=stdin, **env)

    assert completed.returncode == 1
    assert completed.stderr.startswith("Not created: ")
    assert reason in completed.stderr


def test_environment_wins_over_prompts() -> None:
    asked: list[str] = []

    def ask(prompt: str) -> str:
        asked.append(prompt)
        return "x"

    env = {"ADMIN_EMAIL": "a@example.com", "ADMIN_PASSWORD": PASSWORD}
    assert ask_credentials(env, ask=ask, ask_secret=ask) == ("a@example.com", PASSWORD)
    assert asked == []
    answers = iter(["one-password-1", "two-password-2"])
    with pytest.raises(AccountError, match="differ"):
        ask_credentials(
            {"ADMIN_EMAIL": "a@example.com"}, ask=ask, ask_secret=lambda _: next(answers)
        )
