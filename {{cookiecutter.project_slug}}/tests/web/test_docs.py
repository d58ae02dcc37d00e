"""Swagger UI and ReDoc work with no internet: every asset they load comes from here."""

from __future__ import annotations

from html.parser import HTMLParser

import httpx
import pytest

from app.core.config import Settings
from tests.support.apps import app_like
from tests.support.factories import client_for

EXPECTED_TYPES = {
    ".js": ("text/javascript", "application/javascript"),
    ".css": ("text/css",),
    ".png": ("image/png",),
}


class _AssetLinks(HTMLParser):
    """Every URL the page loads by itself: script sources, stylesheets and icons."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and values.get("src"):
            self.urls.append(str(values["src"]))
        if tag == "link" and values.get("href"):
            self.urls.append(str(values["href"]))


def _asset_urls(html: str) -> list[str]:
    parser = _AssetLinks()
    parser.feed(html)
    return parser.urls


@pytest.mark.parametrize(
    ("page", "bundle"),
    [("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")],
)
async def test_docs_pages_load_only_local_assets(
    client: httpx.AsyncClient, page: str, bundle: str
) -> None:
    response = await client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    urls = _asset_urls(response.text)
    assert any(url.endswith(bundle) for url in urls)
    assert "googleapis" not in response.text
    for url in urls:
        assert url.startswith("/"), f"{url} is not served by this service"
        assert not url.startswith("//"), f"{url} is another host"
        asset = await client.get(url)
        assert asset.status_code == 200, url
        suffix = url[url.rfind(".") :]
        content_type = asset.headers["content-type"].split(";")[0]
        assert content_type in EXPECTED_TYPES[suffix], f"{url}: {content_type}"
        assert len(asset.content) > 1_000, f"{url} looks empty"


async def test_swagger_ui_points_at_the_schema_and_its_oauth_redirect(
    client: httpx.AsyncClient,
) -> None:
    html = (await client.get("/docs")).text
    assert "'/api/v1/openapi.json'" in html
    assert "/docs/oauth2-redirect" in html
    redirect = await client.get("/docs/oauth2-redirect")
    assert redirect.status_code == 200
    assert "oauth2" in redirect.text


async def test_docs_assets_are_not_in_the_schema(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/api/v1/openapi.json")).json()["paths"]
    assert not [path for path in paths if path.startswith(("/docs", "/redoc"))]


async def test_docs_follow_the_root_path_behind_a_proxy(settings: Settings) -> None:
    async with client_for(app_like(settings), root_path="/agents") as http:
        html = (await http.get("/docs")).text
    assert all(url.startswith("/agents/docs/assets/") for url in _asset_urls(html))
    assert "'/agents/api/v1/openapi.json'" in html
