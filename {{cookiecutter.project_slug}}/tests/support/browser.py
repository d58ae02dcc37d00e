"""Driving Debian's Chromium through Playwright, and keeping screenshots of what it saw.

Playwright's own browser downloads are not needed: the tests launch the system Chromium
(`apt-get install chromium`), or the one CHROMIUM_PATH names.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.async_api import Browser

DEFAULT_CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# What a hardened deployment would send: the page must work with no inline code at all.
STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)

# Runs before a page's own scripts (CSP does not apply to it) and collects what went wrong.
WATCH_FOR_PROBLEMS = """
window.__problems = [];
document.addEventListener("securitypolicyviolation", (event) =>
  window.__problems.push(`CSP ${event.violatedDirective} blocked ${event.blockedURI}`));
window.addEventListener("error", (event) => window.__problems.push(`error: ${event.message}`));
window.addEventListener("unhandledrejection", (event) =>
  window.__problems.push(`unhandled rejection: ${event.reason}`));
"""

# How long an assertion on a page waits: a loaded machine can take seconds to lay out a
# long page such as ReDoc's (Playwright's own default is 5 s).
EXPECT_TIMEOUT_MS = 15_000

PHASE_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()
SCREENSHOTS = pytest.StashKey[list[Path]]()


def chromium_path() -> Path:
    """The browser to launch: CHROMIUM_PATH, else Debian's."""
    return Path(os.environ.get("CHROMIUM_PATH", DEFAULT_CHROMIUM))


def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """BROWSER_SCREENSHOTS if set (CI keeps it as an artifact), else a pytest temp folder."""
    chosen = os.environ.get("BROWSER_SCREENSHOTS")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("browser-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def screenshot_name(node_name: str, label: str) -> str:
    """A file name from the test's name, safe on any filesystem."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{node_name}-{label}") + ".png"


def failed(item: pytest.Item) -> bool:
    """The test's setup or body failed (the hook in tests/web/conftest.py keeps the reports)."""
    return any(report.failed for report in item.stash.get(PHASE_REPORTS, {}).values())


def record_screenshot(config: pytest.Config, path: Path) -> None:
    """Remember a screenshot, for the summary at the end of the run."""
    config.stash.setdefault(SCREENSHOTS, []).append(path)


@asynccontextmanager
async def launched_chromium() -> AsyncIterator[Browser]:
    """The system Chromium under Playwright, closed afterwards."""
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(chromium_path()), args=LAUNCH_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()
