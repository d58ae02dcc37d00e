"""The playground: a page in the browser to sign in, build agents and chat with them.

Plain HTML, CSS and JavaScript modules in `assets/playground`, served as they are: no
build step, no CDN, no inline script, so a strict Content-Security-Policy fits it. The
page learns what it needs (API prefix, providers and their default models) from
`/playground/config.json` and talks to the same public API as any other client.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from app import __version__
from app.api.deps import ProvidersDep, SettingsDep
from app.web.urls import root_path

PLAYGROUND_ASSETS_DIR = Path(__file__).parent / "assets" / "playground"
PLAYGROUND_URL = "/playground/"

router = APIRouter(include_in_schema=False)


class ProviderChoice(BaseModel):
    """A provider an agent can use here, and the model to suggest for it."""

    name: str
    default_model: str


class PlaygroundConfig(BaseModel):
    """What the page cannot know by itself: where the API is and which providers are set up."""

    app_name: str
    version: str
    api_prefix: str
    docs_url: str | None
    default_provider: str
    providers: list[ProviderChoice]


@router.get("/playground")
async def playground_root(request: Request) -> RedirectResponse:
    """The page's assets are relative to the folder, so the folder's URL is canonical."""
    return RedirectResponse(root_path(request) + PLAYGROUND_URL)


@router.get("/playground/config.json")
async def playground_config(
    request: Request, settings: SettingsDep, providers: ProvidersDep
) -> PlaygroundConfig:
    """The settings the page needs, none of them secret; paths include any proxy prefix."""
    root = root_path(request)
    docs_url = request.app.docs_url
    return PlaygroundConfig(
        app_name=settings.app_name,
        version=__version__,
        api_prefix=root + settings.api_v1_prefix,
        docs_url=root + docs_url if docs_url else None,
        default_provider=settings.default_provider,
        providers=[
            ProviderChoice(name=name, default_model=providers.default_model(name))
            for name in providers.available()
        ],
    )


def install_playground(app: FastAPI) -> None:
    """Serve the page at /playground/, its configuration first so the files cannot shadow it."""
    app.include_router(router)
    app.mount(
        "/playground",
        StaticFiles(directory=PLAYGROUND_ASSETS_DIR, html=True),
        name="playground",
    )
