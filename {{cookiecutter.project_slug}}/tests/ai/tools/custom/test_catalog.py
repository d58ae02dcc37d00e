"""Your tools' catalog: each entry builds the tool it names, and none takes a built-in's name."""

from __future__ import annotations

from app.ai.tools.catalog import BUILTIN_TOOLS
from app.ai.tools.custom.catalog import CUSTOM_TOOLS
from app.core.config import Settings


def test_custom_tools_build_and_keep_names_of_their_own(settings: Settings) -> None:
    builtin = {entry.tool.name for entry in BUILTIN_TOOLS}
    names = [entry.tool.name for entry in CUSTOM_TOOLS]
    assert not builtin & set(names), "a custom tool may not reuse a built-in's name"
    assert len(set(names)) == len(names)
    for entry in CUSTOM_TOOLS:
        if entry.offered(settings):
            assert entry.create(settings).name == entry.tool.name
