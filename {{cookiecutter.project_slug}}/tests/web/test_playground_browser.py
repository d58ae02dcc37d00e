"""The playground in a real browser: Chromium drives the page against a real uvicorn server.

Each test signs up a new user through the page and works only through what a person
sees: roles, labels and text. The page is served under a strict Content-Security-Policy
so any inline script or style it relied on would show up as a violation.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import (
    STRICT_CSP,
    WATCH_FOR_PROBLEMS,
    chromium_path,
    failed,
    launched_chromium,
    record_screenshot,
    screenshot_dir,
    screenshot_name,
)

try:
    from playwright.async_api import Browser, Page, Route, expect
except ImportError:  # pragma: no cover - depends on the environment
    pytest.skip(
        "playwright is not importable: install the dev dependencies (pip install -e '.[dev]')",
        allow_module_level=True,
    )

if not chromium_path().exists():  # pragma: no cover - depends on the environment
    pytest.skip(
        f"no Chromium at {chromium_path()}: apt-get install chromium, or set CHROMIUM_PATH",
        allow_module_level=True,
    )

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "correct-horse-42"
TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with launched_chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return screenshot_dir(tmp_path_factory)


async def _strict_csp(route: Route) -> None:
    response = await route.fetch()
    await route.fulfill(
        response=response,
        headers={**response.headers, "content-security-policy": STRICT_CSP},
    )


@pytest.fixture
async def page(
    browser: Browser, base_url: str, screenshots: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Page]:
    """A fresh browser context per test; a screenshot is kept when the test fails."""
    context = await browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    await context.route("**/playground/", _strict_csp)
    await context.add_init_script(WATCH_FOR_PROBLEMS)
    tab = await context.new_page()
    try:
        yield tab
    finally:
        if failed(request.node):
            path = screenshots / screenshot_name(request.node.name, "failure")
            await tab.screenshot(path=path, full_page=True)
            record_screenshot(request.config, path)
        await context.close()


async def open_playground(page: Page) -> None:
    response = await page.goto("/playground/")
    assert response is not None
    assert response.ok
    assert response.headers["content-security-policy"] == STRICT_CSP


async def sign_up(page: Page) -> str:
    email = f"browser-{uuid.uuid4().hex[:10]}@example.com"
    await page.get_by_role("tab", name="Create account").click()
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    await expect(page.get_by_role("navigation", name="Playground")).to_contain_text(email)
    return email


async def create_agent(page: Page, name: str, *, tools: tuple[str, ...] = ()) -> None:
    await page.get_by_role("button", name="New agent").click()
    dialog = page.get_by_role("dialog", name="New agent")
    await dialog.get_by_label("Name", exact=True).fill(name)
    await dialog.get_by_label("System prompt").fill("You answer briefly.")
    await expect(dialog.get_by_label("Provider")).to_have_value("scripted")
    await expect(dialog.get_by_label("Model")).to_have_value("scripted")
    for tool in tools:
        await dialog.get_by_label(tool).check()
    await dialog.get_by_role("button", name="Create agent").click()
    await expect(dialog).to_be_hidden()
    await expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()


async def send(page: Page, text: str) -> None:
    await page.get_by_role("textbox", name="Message").fill(text)
    await page.get_by_role("button", name="Send").click()


async def assert_no_page_problems(page: Page) -> None:
    problems: list[Any] = await page.evaluate("window.__problems")
    assert problems == []


async def test_chat_streams_answers_tool_calls_and_cancels(
    page: Page, screenshots: Path, request: pytest.FixtureRequest
) -> None:
    await open_playground(page)
    await sign_up(page)
    await create_agent(page, "helper", tools=("calculator",))
    transcript = page.get_by_role("log", name="Messages")

    await send(page, "Hello playground")
    await expect(transcript.get_by_role("article", name="Assistant")).to_contain_text(
        "[scripted] Hello playground"
    )
    await expect(page.get_by_role("status")).to_contain_text("Completed")

    await send(page, '!tool calculator {"expression": "6 * 7"}')
    call = transcript.get_by_role("group", name="Tool call calculator")
    await expect(call.get_by_label("Arguments")).to_contain_text('"expression": "6 * 7"')
    await expect(call.get_by_label("Result")).to_have_text("Result42")
    await expect(transcript).to_contain_text("[scripted] calculator -> 42")

    await send(page, "!sleep 30\nThis one takes its time.")
    cancel = page.get_by_role("button", name="Cancel run")
    await expect(cancel).to_be_enabled()
    await expect(page.get_by_role("button", name="Send")).to_be_disabled()
    await cancel.click()
    await expect(page.get_by_role("status")).to_contain_text("cancelled")
    last_turn = transcript.get_by_role("article", name="Assistant").last
    await expect(last_turn.get_by_role("group", name="Run summary")).to_contain_text("cancelled")
    await expect(cancel).to_be_hidden()
    await expect(page.get_by_role("button", name="Send")).to_be_enabled()

    chat = screenshots / screenshot_name(request.node.name, "chat")
    await page.screenshot(path=chat)
    record_screenshot(request.config, chat)

    await page.get_by_role("tab", name="Executions").click()
    rows = page.get_by_role("table").get_by_role("row")
    await expect(rows).to_have_count(4)  # the header and three runs, newest first
    await expect(rows.nth(1)).to_contain_text("cancelled")
    await expect(rows.nth(2)).to_contain_text("completed")
    await expect(rows.nth(3)).to_contain_text("Hello playground")
    await expect(rows.nth(2)).to_contain_text("$0.000000")
    executions = screenshots / screenshot_name(request.node.name, "executions")
    await page.screenshot(path=executions)
    record_screenshot(request.config, executions)
    await assert_no_page_problems(page)


async def test_conversations_come_back_with_their_messages(page: Page) -> None:
    await open_playground(page)
    await sign_up(page)
    await create_agent(page, "historian", tools=("calculator",))
    await send(page, '!tool calculator {"expression": "2 + 3"}')
    await expect(page.get_by_role("status")).to_contain_text("Completed")

    await page.reload()
    conversations = page.get_by_role("list", name="Conversations")
    await expect(conversations.get_by_role("button")).to_have_count(1)
    await conversations.get_by_role("button").click()
    transcript = page.get_by_role("log", name="Messages")
    await expect(transcript.get_by_role("article", name="You")).to_contain_text("2 + 3")
    call = transcript.get_by_role("group", name="Tool call calculator")
    await expect(call.get_by_label("Result")).to_have_text("Result5")
    await expect(transcript).to_contain_text("[scripted] calculator -> 5")

    await send(page, "And one more")
    await expect(page.get_by_role("status")).to_contain_text("Completed")
    await expect(conversations.get_by_role("button")).to_have_count(1)

    await page.get_by_role("tab", name="Executions").click()
    await page.get_by_role("table").get_by_role("row").nth(2).click()
    await expect(page.get_by_role("tab", name="Chat")).to_have_attribute("aria-selected", "true")
    await expect(transcript.get_by_role("article", name="You")).to_have_count(2)
    await assert_no_page_problems(page)


async def test_an_expired_access_token_is_refreshed_and_a_dead_session_signs_out(
    page: Page,
) -> None:
    await open_playground(page)
    await sign_up(page)
    await create_agent(page, "keeper")
    session_key = "playground.session"
    await page.evaluate(
        """key => {
          const session = JSON.parse(sessionStorage.getItem(key));
          session.access_token = "expired";
          sessionStorage.setItem(key, JSON.stringify(session));
        }""",
        session_key,
    )
    await page.reload()
    await expect(page.get_by_role("heading", name="keeper", exact=True)).to_be_visible()
    token = await page.evaluate(
        "key => JSON.parse(sessionStorage.getItem(key)).access_token", session_key
    )
    assert token != "expired"

    await page.evaluate(
        """key => sessionStorage.setItem(key, JSON.stringify(
          {access_token: "expired", refresh_token: "revoked", email: "x@example.com"}))""",
        session_key,
    )
    await page.reload()
    await expect(page.get_by_role("alert")).to_contain_text("Sign in again")
    await expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    await assert_no_page_problems(page)


async def test_sign_in_errors_are_shown(page: Page) -> None:
    await open_playground(page)
    email = await sign_up(page)
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("alert")).to_contain_text("signed out")

    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill("not-the-password")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_contain_text("Incorrect")

    await page.get_by_role("tab", name="Create account").click()
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    await expect(page.get_by_role("alert")).to_contain_text("already")
    await assert_no_page_problems(page)
