"""`make createadmin`: create an admin account, or make an existing account admin.

Reads ADMIN_EMAIL and ADMIN_PASSWORD from the environment when both are set (for
scripts and CI), and asks for what is missing otherwise: the password twice, hidden
on a terminal. The password rules are the sign-up rules.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import sys
from collections.abc import Callable

from app.cli.common import migrated_database
from app.core.config import Settings, get_settings
from app.crud.accounts import AccountError, Outcome, ensure_account
from app.models import UserRole

MESSAGES = {
    Outcome.CREATED: "Created admin {email}.",
    Outcome.UPDATED: "{email} already existed: it is now an enabled admin with the new password.",
    Outcome.UNCHANGED: "{email} already exists; nothing changed.",
}


class InputClosedError(Exception):
    """Standard input ended before every answer was given."""


def _read_line(prompt: str) -> str:
    """One answer from standard input; piped input is read without echo tricks."""
    print(prompt, end="", flush=True)
    line = sys.stdin.readline()
    if not line:
        raise InputClosedError(f"input ended before {prompt.strip()!r} was answered")
    return line.rstrip("\n")


def ask_credentials(
    environ: dict[str, str], *, ask: Callable[[str], str], ask_secret: Callable[[str], str]
) -> tuple[str, str]:
    """The email and password from the environment, or asked for; a mistyped repeat fails."""
    email = environ.get("ADMIN_EMAIL", "").strip() or ask("Admin email: ").strip()
    password = environ.get("ADMIN_PASSWORD", "")
    if not password:
        password = ask_secret("Password: ")
        if ask_secret("Password (again): ") != password:
            raise AccountError("the two passwords differ")
    return email, password


async def create_admin(settings: Settings, email: str, password: str) -> Outcome:
    """Create or promote the admin in the configured (migrated) database."""
    async with migrated_database(settings) as database:
        return await ensure_account(
            database,
            settings,
            email=email,
            password=password,
            role=UserRole.ADMIN,
            update_existing=True,
        )


def main() -> int:
    """Exit status 0 on success, 1 when the answers are refused."""
    secret = getpass.getpass if sys.stdin.isatty() else _read_line
    try:
        email, password = ask_credentials(dict(os.environ), ask=_read_line, ask_secret=secret)
        outcome = asyncio.run(create_admin(get_settings(), email, password))
    except (AccountError, InputClosedError) as exc:
        print(f"Not created: {exc}", file=sys.stderr)
        return 1
    print(MESSAGES[outcome].format(email=email))
    return 0


if __name__ == "__main__":
    sys.exit(main())
