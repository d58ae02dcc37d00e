"""Application factory: settings, logging, middleware, routers and the lifespan.

`create_app()` builds an application from the settings given (tests pass their own);
`app` is the one built from the environment, for `uvicorn app.main:app`, `fastapi dev`
and `fastapi run`. It is built on first access, so importing this module reads no
settings and builds nothing.
"""

from __future__ import annotations

from app.core.gc_pause import collector_paused

# Loaded with the garbage collector paused, then kept out of its way: see gc_pause.
with collector_paused():
    import multiprocessing
    import os
    import sys
    from collections.abc import AsyncIterator
    from contextlib import asynccontextmanager
    from functools import cache
    from typing import NoReturn

    import structlog
    from fastapi import FastAPI
    from fastapi.middleware.cors import CORSMiddleware
    from starlette.types import ASGIApp, Message, Receive, Scope, Send
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    from app import __doc__ as package_description
    from app import __version__
    from app.ai.knowledge.background import IngestionQueue
    from app.ai.knowledge.chunking import ChunkingOptions
    from app.ai.knowledge.embedders.source import EmbedderSource
    from app.ai.mcp.pool import McpPool
    from app.ai.mcp.tools import McpToolSource
    from app.ai.providers.factory import ProviderFactory
    from app.ai.runs import RunManager
    from app.ai.runs.sweeper import Sweeper
    from app.ai.tools.catalog import build_default_registry
    from app.ai.tools.manager import ToolManager
    from app.ai.workflows import WorkflowEngine
    from app.api.error_responses import install_error_responses
    from app.api.health import router as health_router
    from app.api.mcp_server import install_mcp_server, mcp_running
    from app.api.metrics import router as metrics_router
    from app.api.middleware.body_limit import BodyLimitMiddleware
    from app.api.middleware.compression import CompressionMiddleware
    from app.api.middleware.metrics import MetricsMiddleware
    from app.api.middleware.security_headers import SecurityHeadersMiddleware
    from app.api.middleware.text_guard import TextGuardMiddleware
    from app.api.openai_compat import router as openai_router
    from app.api.openai_models import router as openai_models_router
    from app.api.user_limits import UserLimits
    from app.api.v1.router import api_router
    from app.core.backends import (
        create_auth_throttle,
        create_rate_limiter,
        create_store,
        wait_for_store,
    )
    from app.core.config import Settings, get_settings
    from app.core.errors import register_error_handlers
    from app.core.logging import RequestContextMiddleware, configure_logging
    from app.core.sealing import Sealer
    from app.core.security.passwords import use_hashing_threads
    from app.core.security.revocation import Revocations
{%- if cookiecutter.use_opentelemetry %}
    from app.core.tracing import configure_tracing, flush_traces, instrument_app, instrument_engine
{%- endif %}
    from app.core.waiting import DependencyUnreachableError
    from app.crud.accounts import apply_first_admin
    from app.crud.revocation import DatabaseRevocationLedger
    from app.crud.user_cache import UserCache
    from app.db.migrate import ensure_sqlite_directory, upgrade_if_behind
    from app.db.session import Database, wait_for_database
    from app.web.docs import install_api_docs
    from app.web.home import router as home_router
    from app.web.playground import install_playground

logger = structlog.get_logger(__name__)

# uvicorn's exit status for "failed before serving"; its worker supervisor stops on it
# instead of restarting the worker forever.
STARTUP_FAILURE_EXIT_STATUS = 3
# A multipart body carries its boundaries and part headers besides the document.
MULTIPART_ALLOWANCE_BYTES = 64 * 1024


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application; tests pass their own settings."""
    settings = settings or get_settings()
    configure_logging(settings)
{%- if cookiecutter.use_opentelemetry %}
    configure_tracing(settings)
{%- endif %}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ensure_sqlite_directory(settings)  # SQLite makes its file, not the file's folder
        await wait_for_database(settings)
        await wait_for_store(settings)
        if settings.auto_migrate:
            await upgrade_if_behind(settings)
        app.state.database = database = Database(settings)
{%- if cookiecutter.use_opentelemetry %}
        instrument_engine(database.engine, settings)
{%- endif %}
        await apply_first_admin(database, settings)
        app.state.store = store = create_store(settings)
        app.state.revocations = Revocations(store, DatabaseRevocationLedger(database))
        app.state.users = users = UserCache(store, ttl_seconds=settings.user_cache_seconds)
        database.on_change(users.forget)
        use_hashing_threads(settings.password_hash_threads)
        app.state.rate_limiter = rate_limiter = create_rate_limiter(settings)
        app.state.auth_throttle = create_auth_throttle(settings, rate_limiter)
        app.state.user_limits = UserLimits(rate_limiter, settings)
        app.state.providers = providers = ProviderFactory(settings)
        app.state.embedders = embedders = EmbedderSource(settings, providers)
        app.state.ingestion = ingestion = IngestionQueue(
            database,
            embedders,
            ChunkingOptions.from_settings(settings),
            store=store,
            settings=settings,
        )
        app.state.tools = tools = build_default_registry(settings, embedders=embedders)
        app.state.sealer = sealer = Sealer.from_settings(settings)
        app.state.mcp_pool = mcp_pool = McpPool()
        tools.add_source(McpToolSource(mcp_pool, sealer, allow_stdio=settings.mcp_allow_stdio))
        app.state.tool_manager = tool_manager = ToolManager(
            tools,
            default_timeout_seconds=settings.tool_timeout_seconds,
            max_output_bytes=settings.tool_output_max_bytes,
        )
        app.state.runs = runs = RunManager(
            settings=settings,
            database=database,
            store=store,
            providers=providers,
            tools=tools,
            tool_manager=tool_manager,
        )
        await runs.start()
        await ingestion.start()
        app.state.workflows = workflows = WorkflowEngine(runs)
        await workflows.start()
        sweeper = Sweeper(runs, store, settings.sweep_interval_seconds)
        if settings.run_role != "api":  # processes that execute runs are the ones to resume them
            sweeper.start()
        try:
            async with mcp_running(app):
                yield
        finally:
            await sweeper.stop()
            await workflows.shutdown()
            await ingestion.shutdown()
            await runs.shutdown()
            await tools.aclose()
            await embedders.aclose()
            await providers.aclose()
            await app.state.rate_limiter.close()
            await store.close()
            await database.dispose()
{%- if cookiecutter.use_opentelemetry %}
            flush_traces()
{%- endif %}

    app = FastAPI(
        title=settings.app_name,
        version=__version__,
        description=package_description or "",
        lifespan=lifespan,
        openapi_url=f"{settings.api_v1_prefix}/openapi.json" if settings.docs_enabled else None,
        docs_url=None,  # served from packaged assets by install_api_docs, not a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    register_error_handlers(app)
    app.add_middleware(CompressionMiddleware, minimum_size=1024)
    app.add_middleware(TextGuardMiddleware)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_request_body_bytes,
        overrides=upload_limits(settings) | settings.request_body_limits,
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["*"],
            allow_headers=["*"],
        )
    app.add_middleware(SecurityHeadersMiddleware)
    if settings.metrics_enabled:
        app.add_middleware(MetricsMiddleware)
    app.add_middleware(RequestContextMiddleware)
    app.add_middleware(StartupFailureMiddleware)
    if settings.trusted_proxies:
        # Outermost, so logs, rate limits and redirects all see the client, not the proxy.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    app.include_router(health_router)
    if settings.metrics_enabled:
        app.include_router(metrics_router)
    if settings.run_role != "worker":
        app.include_router(api_router, prefix=settings.api_v1_prefix)
        app.include_router(openai_router)
        app.include_router(openai_models_router)
        if settings.mcp_server_enabled:
            install_mcp_server(app)
        install_api_docs(app, docs_url="/docs", redoc_url="/redoc")
        app.include_router(home_router)
        if settings.playground_enabled:
            install_playground(app)
    install_error_responses(app)
{%- if cookiecutter.use_opentelemetry %}
    instrument_app(app, settings)
{%- endif %}
    return app


def upload_limits(settings: Settings) -> dict[str, int]:
    """Body caps for routes that take documents: the document cap plus room for the form."""
    return {
        f"{settings.api_v1_prefix}/knowledge-bases": settings.knowledge_upload_max_bytes
        + MULTIPART_ALLOWANCE_BYTES
    }


class StartupFailureMiddleware:
    """An unreachable database or Redis at start-up: one line and exit status 3, no traceback.

    Starlette reports any start-up exception to the server with its full traceback, and
    a uvicorn worker whose start-up failed exits 0, so `--workers N` would restart it
    forever. For `DependencyUnreachableError` this reports the error's one line instead,
    and a worker process then exits with uvicorn's start-up failure status.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass everything through; rewrite only a start-up failure this class knows."""
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def hold_startup_failure(message: Message) -> None:
            if message["type"] == "lifespan.startup.failed":
                held.append(message)
            else:
                await send(message)

        try:
            await self.app(scope, receive, hold_startup_failure)
        except DependencyUnreachableError as exc:
            await send({"type": "lifespan.startup.failed", "message": str(exc)})
            if multiprocessing.parent_process() is not None:
                _exit_worker_after_failed_startup()
            return
        except BaseException:
            await _send_all(send, held)
            raise
        await _send_all(send, held)


async def _send_all(send: Send, messages: list[Message]) -> None:
    for message in messages:
        await send(message)


def _exit_worker_after_failed_startup() -> NoReturn:
    """End a worker process with the status its supervisor stops on; nothing is open yet.

    A single-process uvicorn exits with this status by itself; one of several workers
    would otherwise exit 0 and be started again, forever.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(STARTUP_FAILURE_EXIT_STATUS)


@cache
def _default_app() -> FastAPI:
    """The application built from the environment, once per process."""
    return create_app()


def __getattr__(name: str) -> FastAPI:
    """`app.main:app` builds the default application when first asked for."""
    if name == "app":
        return _default_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    """List `app` too, so tools that look before they import (fastapi-cli) find it."""
    return sorted([*globals(), "app"])
