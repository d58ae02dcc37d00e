"""`make seed`: a demo user with example agents, to try the playground at once.

Running it again reuses the user and its agents (a new password is set and printed,
so the printed sign-in always works). Refused in production, where a known account
would be a way in.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select

from app.ai.providers.factory import ProviderFactory
from app.ai.providers.registry import UnknownProviderError
from app.cli.common import migrated_database
from app.cli.seed_workflows import seed_workflows
from app.core.config import Settings, get_settings
from app.crud import agent_version as version_crud
from app.crud import organization as organization_crud
from app.crud import user as user_crud
from app.crud.accounts import AccountError, ensure_account
from app.models import Agent, UserRole

DEMO_EMAIL = "demo@example.com"


@dataclass(frozen=True)
class ExampleAgent:
    """An agent the demo user starts with."""

    name: str
    description: str
    system_prompt: str
    tools: list[str] = field(default_factory=list)


EXAMPLE_AGENTS = [
    ExampleAgent(
        name="Assistant",
        description="A general helper with no tools.",
        system_prompt="You are a concise, friendly assistant.",
    ),
    ExampleAgent(
        name="Calculator",
        description="Answers arithmetic with the calculator tool and knows the time.",
        system_prompt="Use the calculator for any arithmetic and current_time for dates.",
        tools=["calculator", "current_time"],
    ),
]


@dataclass(frozen=True)
class SeedResult:
    """What the seed left in the database, for the sign-in message."""

    email: str
    password: str
    created_agents: list[str]
    kept_agents: list[str]
    created_workflows: list[str] = field(default_factory=list)


def generated_password() -> str:
    """A fresh password that meets the sign-up rules (letters and digits, long enough)."""
    return f"demo-{secrets.token_hex(4)}-{secrets.randbelow(90) + 10}"


async def seed(
    settings: Settings, *, email: str, password: str, workflows: bool = True
) -> SeedResult:
    """Create or refresh the demo user, then add the examples it does not have yet.

    With `workflows`, the example workflows come too, with the agents they run.
    """
    if settings.environment == "production":
        raise AccountError("refused in production: a demo account with a printed password")
    providers = ProviderFactory(settings)
    provider = settings.default_provider
    model = providers.default_model(provider)
    created: list[str] = []
    kept: list[str] = []
    async with migrated_database(settings) as database:
        await ensure_account(
            database,
            settings,
            email=email,
            password=password,
            role=UserRole.USER,
            update_existing=True,
        )
        async with database.transaction() as session:
            user = await user_crud.get_by_email(session, email=email)
            assert user is not None  # made just above
            # The demo agents live in the user's personal workspace, made with the account.
            workspace = await organization_crud.get_personal_id(session, user_id=user.id)
            assert workspace is not None
            existing = set(
                await session.scalars(select(Agent.name).where(Agent.organization_id == workspace))
            )
            for example in EXAMPLE_AGENTS:
                if example.name in existing:
                    kept.append(example.name)
                    continue
                agent = Agent(
                    organization_id=workspace,
                    owner_id=user.id,
                    name=example.name,
                    description=example.description,
                    system_prompt=example.system_prompt,
                    provider=provider,
                    model=model,
                    tools=example.tools,
                    version=1,
                )
                session.add(agent)
                await session.flush()
                await version_crud.record(session, agent=agent)
                created.append(example.name)
            if workflows:
                made = await seed_workflows(
                    session, owner_id=user.id, provider=provider, model=model
                )
    await providers.aclose()
    return SeedResult(
        email=email,
        password=password,
        created_agents=created,
        kept_agents=kept,
        created_workflows=made if workflows else [],
    )


def sign_in_message(result: SeedResult, url: str, api_prefix: str = "/api/v1") -> str:
    """How to sign in and what is there, printed at the end."""
    agents = ", ".join(result.created_agents + result.kept_agents)
    return "\n".join(
        [
            f"Demo user ready: {result.email} / {result.password}",
            f"Agents: {agents}"
            + (f" (new: {', '.join(result.created_agents)})" if result.created_agents else ""),
            *(
                [f"Example workflows added: {', '.join(result.created_workflows)}"]
                if result.created_workflows
                else []
            ),
            f"Sign in at {url.rstrip('/')}/playground/ (start the server with `make dev`),",
            f"or get a token: curl -d 'username={result.email}&password={result.password}' "
            f"{url.rstrip('/')}{api_prefix}/auth/login",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Exit status 0 with the sign-in printed, 1 when refused."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--email", default=DEMO_EMAIL)
    parser.add_argument("--password", help="default: a new random one, printed")
    parser.add_argument("--url", default="http://localhost:8000", help="the server's address")
    parser.add_argument(
        "--no-workflows",
        action="store_true",
        help="skip the example workflows (software delivery, triage) and their agents",
    )
    args = parser.parse_args(argv)
    settings = get_settings()
    try:
        result = asyncio.run(
            seed(
                settings,
                email=args.email,
                password=args.password or generated_password(),
                workflows=not args.no_workflows,
            )
        )
    except (AccountError, UnknownProviderError) as exc:
        print(f"Not seeded: {exc}", file=sys.stderr)
        return 1
    print(sign_in_message(result, args.url, settings.api_v1_prefix))
    return 0


if __name__ == "__main__":
    sys.exit(main())
