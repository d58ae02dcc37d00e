"""The playground's files and configuration, and the setting that switches it off.

The page itself is exercised in Chromium by test_playground_browser.py; these tests
need no browser.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx
import pytest

from app import __version__
from app.core.config import Settings
from app.web.playground import PLAYGROUND_ASSETS_DIR
from tests.support.apps import app_like
from tests.support.factories import AppFactory, client_for

CONTENT_TYPES = {
    ".html": ("text/html",),
    ".js": ("text/javascript", "application/javascript"),
    ".css": ("text/css",),
    ".svg": ("image/svg+xml",),
}
MODULE_IMPORT = re.compile(r"""^import\s[^;]*?from\s+["'](\./[\w.-]+\.js)["'];""", re.MULTILINE)
# Anything a strict Content-Security-Policy (script-src 'self') would block, or that
# would let data from the API run as code.
UNSAFE_SCRIPT = re.compile(r"\beval\(|new Function\(|\.innerHTML\b|\.outerHTML\b|document\.write")


def _assets() -> list[str]:
    return sorted(path.name for path in PLAYGROUND_ASSETS_DIR.iterdir() if path.is_file())


async def test_playground_redirects_to_its_folder(client: httpx.AsyncClient) -> None:
    response = await client.get("/playground")
    assert response.status_code == 307
    assert response.headers["location"] == "/playground/"


async def test_index_is_served_at_the_folder(client: httpx.AsyncClient) -> None:
    response = await client.get("/playground/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="app.js"></script>' in response.text


@pytest.mark.parametrize("name", _assets())
async def test_every_asset_is_served_with_its_type(client: httpx.AsyncClient, name: str) -> None:
    response = await client.get(f"/playground/{name}")
    assert response.status_code == 200
    content_type = response.headers["content-type"].split(";")[0]
    assert content_type in CONTENT_TYPES[name[name.rfind(".") :]]
    assert response.content == (PLAYGROUND_ASSETS_DIR / name).read_bytes()


def test_every_imported_module_ships_with_the_page() -> None:
    names = set(_assets())
    for script in sorted(PLAYGROUND_ASSETS_DIR.glob("*.js")):
        for module in MODULE_IMPORT.findall(script.read_text(encoding="utf-8")):
            assert module.removeprefix("./") in names, f"{script.name} imports {module}"


class _InlineCode(HTMLParser):
    """Inline scripts, event-handler attributes and style attributes, which CSP blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, _ in attrs:
            if name.startswith("on") or name == "style":
                self.found.append(f"<{tag} {name}=...>")
        self._in_inline_script = tag == "script" and not dict(attrs).get("src")

    def handle_data(self, data: str) -> None:
        if self._in_inline_script and data.strip():
            self.found.append(f"inline script: {data.strip()[:40]}")

    def handle_endtag(self, tag: str) -> None:
        self._in_inline_script = False


def test_the_page_needs_no_inline_code() -> None:
    parser = _InlineCode()
    parser.feed((PLAYGROUND_ASSETS_DIR / "index.html").read_text(encoding="utf-8"))
    assert parser.found == []
    for script in sorted(PLAYGROUND_ASSETS_DIR.glob("*.js")):
        text = script.read_text(encoding="utf-8")
        assert UNSAFE_SCRIPT.search(text) is None, script.name
        assert re.search(r"https?://", text) is None, f"{script.name} calls another host"


async def test_config_tells_the_page_where_the_api_is_and_which_providers_work(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    response = await client.get("/playground/config.json")
    assert response.status_code == 200
    config = response.json()
    assert config["api_prefix"] == settings.api_v1_prefix
    assert config["version"] == __version__
    assert config["docs_url"] == "/docs"
    assert config["default_provider"] == settings.default_provider
    assert {"name": "scripted", "default_model": "scripted"} in config["providers"]
    ready = (await client.get("/health/ready")).json()
    assert [provider["name"] for provider in config["providers"]] == ready["providers"]


async def test_missing_files_and_escapes_are_404(client: httpx.AsyncClient) -> None:
    for path in ("/playground/nothing.js", "/playground/..%2F..%2Fmain.py"):
        assert (await client.get(path)).status_code == 404, path


@pytest.mark.parametrize(
    "changes",
    [{"playground_enabled": False}, {"environment": "production", "playground_enabled": None}],
    ids=["switched-off", "production-default"],
)
async def test_a_disabled_playground_is_not_there(
    settings: Settings, changes: dict[str, object]
) -> None:
    async with client_for(app_like(settings, **changes)) as http:
        for path in (
            "/playground",
            "/playground/",
            "/playground/app.js",
            "/playground/config.json",
        ):
            assert (await http.get(path)).status_code == 404, path
        assert (await http.get("/docs")).status_code == 200


async def test_behind_a_proxy_prefix_the_page_is_told_the_full_paths(
    make_app: AppFactory,
) -> None:
    application = await make_app()
    async with client_for(application, root_path="/agents") as http:
        config = (await http.get("/playground/config.json")).json()
        redirect = await http.get("/playground")
    assert config["api_prefix"] == "/agents/api/v1"
    assert config["docs_url"] == "/agents/docs"
    assert redirect.headers["location"] == "/agents/playground/"
