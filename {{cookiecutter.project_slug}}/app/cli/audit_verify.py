"""`make audit-verify`: check every audit chain; exit 1 and name the first broken link."""

from __future__ import annotations

import asyncio
import sys

from app.cli.common import migrated_database
from app.core.config import Settings, get_settings
from app.crud.audit_verify import Verification, verify


async def verify_log(settings: Settings) -> Verification:
    """Check the configured database's audit log."""
    async with migrated_database(settings) as database, database.transaction() as session:
        return await verify(session)


def _count(number: int, one: str, many: str | None = None) -> str:
    return f"{number} {one if number == 1 else many or one + 's'}"


def main() -> int:
    """Exit status 0 when every chain holds, 1 at the first broken link."""
    outcome = asyncio.run(verify_log(get_settings()))
    if outcome.first_break is not None:
        print(f"Audit log broken: {outcome.first_break.describe()}", file=sys.stderr)
        return 1
    entries, chains = _count(outcome.entries, "entry", "entries"), _count(outcome.chains, "chain")
    print(f"Audit log intact: {entries} in {chains}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
