"""Fail when `.env.example` and the `Settings` class disagree about which settings exist.

Run by `make lint` and the pre-commit hook: `python scripts/check_env_example.py [FILE]`
(FILE defaults to the project's `.env.example`). Every setting must appear as `NAME=...`,
commented out or not, and every such line must name a real setting.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))  # run as a plain script

from app.core.config import Settings  # noqa: E402 - needs the path above

ENV_LINE = re.compile(r"^\s*#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)


def setting_names() -> set[str]:
    """The environment variable each `Settings` field reads, upper-cased."""
    prefix = str(Settings.model_config.get("env_prefix") or "")
    names = set()
    for field_name, field in Settings.model_fields.items():
        alias = field.validation_alias
        names.add(alias if isinstance(alias, str) else f"{prefix}{field_name}")
    return {name.upper() for name in names}


def documented_names(env_example: Path) -> set[str]:
    """Names written as `NAME=value` or `# NAME=value` in the example file."""
    return set(ENV_LINE.findall(env_example.read_text(encoding="utf-8")))


def problems(env_example: Path) -> list[str]:
    """One line per setting missing from the file and per name that is no setting."""
    settings, documented = setting_names(), documented_names(env_example)
    missing = [f"{env_example.name}: missing {name}" for name in sorted(settings - documented)]
    unknown = [
        f"{env_example.name}: {name} is not a setting in app/core/config.py"
        for name in sorted(documented - settings)
    ]
    return missing + unknown


def main(argv: list[str]) -> int:
    """Print every disagreement and exit 1 when there is one."""
    env_example = Path(argv[0]) if argv else PROJECT_ROOT / ".env.example"
    found = problems(env_example)
    for line in found:
        print(line, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
