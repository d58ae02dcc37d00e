"""Swagger UI and ReDoc from assets shipped in a package, so `/docs` works offline.

FastAPI's own pages load their JavaScript and CSS from a CDN: on a machine without
internet they stay blank. `fastapi-offline` ships the same Swagger UI and ReDoc bundles
as package data; these routes serve them from here instead.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from app.api.middleware.security_headers import page_policy
from app.web.urls import root_path

DOCS_ASSETS_DIR = Path(str(files("fastapi_offline") / "static"))
DOCS_ASSETS_URL = "/docs/assets"


def _with_own_policy(page: HTMLResponse) -> HTMLResponse:
    """The page's Content-Security-Policy, allowing exactly the inline code it carries."""
    page.headers["Content-Security-Policy"] = page_policy(bytes(page.body).decode())
    return page


def install_api_docs(
    app: FastAPI, *, docs_url: str | None = "/docs", redoc_url: str | None = "/redoc"
) -> None:
    """Serve Swagger UI at `docs_url` and ReDoc at `redoc_url`; None leaves one out.

    The app must be built with `docs_url=None, redoc_url=None`; this sets both attributes
    back, so anything that reads `app.docs_url` finds the pages.
    """
    if app.openapi_url is None or (docs_url is None and redoc_url is None):
        return
    openapi_url = app.openapi_url
    app.mount(DOCS_ASSETS_URL, StaticFiles(directory=DOCS_ASSETS_DIR), name="docs-assets")
    app.docs_url, app.redoc_url = docs_url, redoc_url
    if docs_url is not None:
        oauth2_redirect_url = app.swagger_ui_oauth2_redirect_url

        async def swagger_ui(request: Request) -> HTMLResponse:
            root = root_path(request)
            page = get_swagger_ui_html(
                openapi_url=root + openapi_url,
                title=f"{app.title} - Swagger UI",
                swagger_js_url=f"{root}{DOCS_ASSETS_URL}/swagger-ui-bundle.js",
                swagger_css_url=f"{root}{DOCS_ASSETS_URL}/swagger-ui.css",
                swagger_favicon_url=f"{root}{DOCS_ASSETS_URL}/favicon.png",
                oauth2_redirect_url=root + oauth2_redirect_url if oauth2_redirect_url else None,
                init_oauth=app.swagger_ui_init_oauth,
                swagger_ui_parameters=app.swagger_ui_parameters,
            )
            return _with_own_policy(page)

        app.add_route(docs_url, swagger_ui, include_in_schema=False)
        if oauth2_redirect_url:

            async def swagger_ui_redirect(_request: Request) -> HTMLResponse:
                return _with_own_policy(get_swagger_ui_oauth2_redirect_html())

            app.add_route(oauth2_redirect_url, swagger_ui_redirect, include_in_schema=False)
    if redoc_url is not None:

        async def redoc(request: Request) -> HTMLResponse:
            root = root_path(request)
            page = get_redoc_html(
                openapi_url=root + openapi_url,
                title=f"{app.title} - ReDoc",
                redoc_js_url=f"{root}{DOCS_ASSETS_URL}/redoc.standalone.js",
                redoc_favicon_url=f"{root}{DOCS_ASSETS_URL}/favicon.png",
                with_google_fonts=False,
            )
            return _with_own_policy(page)

        app.add_route(redoc_url, redoc, include_in_schema=False)
