"""Swagger UI and ReDoc work in a real browser under the policy the service sends them.

The pages carry their own Content-Security-Policy (their start-up script allowed by its
hash, nothing else inline); a violation or a script error would show up here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.browser import WATCH_FOR_PROBLEMS, chromium_path, launched_chromium

try:
    from playwright.async_api import Browser, Page, expect
except ImportError:  # pragma: no cover - depends on the environment
    pytest.skip("playwright is not importable", allow_module_level=True)

if not chromium_path().exists():  # pragma: no cover - depends on the environment
    pytest.skip(f"no Chromium at {chromium_path()}", allow_module_level=True)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with launched_chromium() as launched:
        yield launched


@pytest.fixture
async def page(browser: Browser, base_url: str) -> AsyncIterator[Page]:
    context = await browser.new_context(base_url=base_url)
    context.set_default_timeout(TIMEOUT_MS)
    await context.add_init_script(WATCH_FOR_PROBLEMS)
    try:
        yield await context.new_page()
    finally:
        await context.close()


async def test_swagger_ui_renders_every_route_under_its_policy(page: Page) -> None:
    response = await page.goto("/docs")
    assert response is not None
    assert "'sha256-" in response.headers["content-security-policy"]

    await expect(page.get_by_text("/api/v1/users/me").first).to_be_visible()
    assert await page.evaluate("window.__problems") == []


async def test_redoc_renders_under_its_policy(page: Page) -> None:
    response = await page.goto("/redoc")
    assert response is not None

    await expect(page.get_by_text("/api/v1/users/me").first).to_be_attached()
    problems = await page.evaluate("window.__problems")
    # ReDoc's "powered by" logo comes from its CDN; the policy keeps it out, as it should.
    assert [p for p in problems if not p.startswith("CSP img-src blocked https://")] == []
