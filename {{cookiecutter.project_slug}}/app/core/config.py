"""Application settings, read once from the environment (and a local .env file)."""

from __future__ import annotations

import base64
import ipaddress
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "change-me-in-production"  # noqa: S105 - refused outside development
PROJECT_ROOT = Path(__file__).resolve().parents[2]
# The floor for every deployment; the PASSWORD_MIN_LENGTH setting may only raise it.
PASSWORD_MIN_LENGTH = 8


class Settings(BaseSettings):
    """Every knob the service reads; `.env.example` documents each one."""

    # hide_input_in_errors: a refused value (a short SECRET_KEY, a URL with a password)
    # must not be printed back in the start-up error that refuses it.
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        hide_input_in_errors=True,
    )

    # Application
    app_name: str = "{{ cookiecutter.project_name }}"
    environment: Literal["development", "test", "staging", "production"] = "development"
    debug: bool = False
    api_v1_prefix: str = "/api/v1"
    cors_origins: list[str] = Field(default_factory=list)
    log_level: str = "INFO"
    # One JSON object per line; unset (None) means JSON in staging and production only.
    log_json: bool | None = None
    # The browser page at /playground; unset (None) means on in development and test only.
    playground_enabled: bool | None = None
    # /docs, /redoc and the OpenAPI document; unset (None) means off in production only.
    docs_enabled: bool | None = None
    # GET /metrics in Prometheus's format; with a token set, scrapers must send it as Bearer.
    metrics_enabled: bool = True
    metrics_token: SecretStr | None = None
{%- if cookiecutter.use_opentelemetry %}
    # OpenTelemetry traces go to this OTLP/HTTP collector (e.g. http://collector:4318);
    # unset, nothing is traced. The OTEL_* names are the standard ones.
    otel_exporter_otlp_endpoint: str | None = None
    otel_service_name: str = "{{ cookiecutter.project_slug }}"
{%- endif %}

    # Request limits: a larger body is a 413 before anything parses it.
    max_request_body_bytes: int = Field(default=1_000_000, ge=1024)
    # Path prefix -> its own body cap, for routes that take uploads.
    request_body_limits: dict[str, int] = Field(default_factory=dict)

    # Database: a local SQLite file until DATABASE_URL points elsewhere.
    database_url: str = f"sqlite+aiosqlite:///{PROJECT_ROOT / 'data' / 'app.db'}"
    database_echo: bool = False
    database_pool_size: int = Field(default=10, ge=1)
    database_max_overflow: int = Field(default=5, ge=0)
    database_pool_timeout_seconds: float = Field(default=5.0, gt=0)
    # Start-up tries the database this many times, waiting BACKOFF seconds (doubling up to
    # MAX_BACKOFF, each wait drawn between half and all of it) between tries, then exits
    # non-zero with one line naming DATABASE_URL.
    database_connect_attempts: int = Field(default=5, ge=1)
    database_connect_backoff_seconds: float = Field(default=0.5, ge=0)
    database_connect_max_backoff_seconds: float = Field(default=10.0, ge=0)
    auto_migrate: bool = True

    # Per-request costs. Pre-ping checks each pooled connection before use (a round trip),
    # so one the server closed is replaced unseen; unset means on except for SQLite.
    # Connections older than RECYCLE seconds are replaced (-1: never).
    database_pool_pre_ping: bool | None = None
    database_pool_recycle_seconds: int = Field(default=1800, ge=-1)
    # How long a signed-in user's account is reused without reading its row (0: never).
    # Every change to an account is seen at once{% if cookiecutter.use_redis %} with Redis, or{% endif %} in the worker that made
    # it; other workers without a shared store see it within this many seconds.
    user_cache_seconds: int = Field(default=30, ge=0)
    # Threads hashing passwords at once (bcrypt); empty means one per CPU core.
    password_hash_threads: int | None = Field(default=None, ge=1)
{%- if cookiecutter.use_redis %}

    # Redis: empty keeps rate limits, revocation and cancellation in-process.
    redis_url: str = ""
    redis_socket_timeout_seconds: float = Field(default=5.0, gt=0)
    redis_max_connections: int = Field(default=100, ge=1)
    redis_pool_timeout_seconds: float = Field(default=2.0, gt=0)
    # Start-up waits for REDIS_URL as it does for the database, then exits naming REDIS_URL.
    redis_connect_attempts: int = Field(default=5, ge=1)
    redis_connect_backoff_seconds: float = Field(default=0.5, ge=0)
    redis_connect_max_backoff_seconds: float = Field(default=10.0, ge=0)
{%- endif %}

    # Security
    secret_key: SecretStr = SecretStr(PLACEHOLDER_SECRET)
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    access_token_expire_minutes: int = Field(default=30, ge=1)
    refresh_token_expire_days: int = Field(default=14, ge=1)
    password_min_length: int = Field(default=PASSWORD_MIN_LENGTH, ge=PASSWORD_MIN_LENGTH)
    # Sign-in throttling: AUTH_RATE_LIMIT caps login and registration attempts per client
    # address and per account; failures past the free ones then double a delay.
    auth_rate_limit: str = "10/minute"
    # An admin account created at start-up when no account has this email yet.
    first_admin_email: str = ""
    first_admin_password: SecretStr | None = None
    auth_free_failures_per_account: int = Field(default=5, ge=1)
    auth_free_failures_per_address: int = Field(default=20, ge=1)
    auth_max_delay_seconds: int = Field(default=900, ge=1)
    # Reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed.
    trusted_proxies: list[str] = Field(default_factory=list)

    # AI providers: a provider without its API key is not offered; "scripted" always is.
    default_provider: str = "scripted"
    llm_timeout_seconds: float = Field(default=60.0, gt=0)
    llm_max_retries: int = Field(default=2, ge=0)
    # /health/ready checks that each configured provider's API answers at most this often
    # (seconds), in the background; 0 reports providers from their settings only.
    provider_check_interval_seconds: float = Field(default=60.0, ge=0)
{%- if cookiecutter.use_openai %}
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_default_model: str = "gpt-4o-mini"
{%- endif %}
{%- if cookiecutter.use_anthropic %}
    anthropic_api_key: SecretStr | None = None
    anthropic_default_model: str = "claude-sonnet-4-6"
{%- endif %}
{%- if cookiecutter.use_gemini %}
    gemini_api_key: SecretStr | None = None
    gemini_default_model: str = "gemini-2.5-flash"
{%- endif %}

    # MCP: connections to users' MCP servers, and this service's own server at /mcp.
    # MCP_ENCRYPTION_KEY is a Fernet key for the headers stored with a connection; empty
    # derives one from SECRET_KEY (rotating SECRET_KEY then makes stored headers unreadable).
    mcp_encryption_key: SecretStr | None = None
    # stdio connections start a process on this host, so only an admin's setting allows them.
    mcp_allow_stdio: bool = False
    mcp_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    mcp_server_enabled: bool = True
    # Also offer the built-in tools at /mcp, run as the caller (as POST /tools/{name}/execute).
    mcp_server_tools: bool = False

    # Agent templates: one TOML file per template; adding a file adds a template.
    agent_templates_dir: Path = PROJECT_ROOT / "app" / "agent_templates"

    # Tools
    tools_sandbox_dir: Path = PROJECT_ROOT / "data" / "sandbox"
    tool_timeout_seconds: float = Field(default=30.0, gt=0)
    http_fetch_max_bytes: int = Field(default=1_000_000, ge=1)
    tool_output_max_bytes: int = Field(default=100_000, ge=1024)
    sql_tool_max_rows: int = Field(default=100, ge=1)
    sql_tool_max_result_bytes: int = Field(default=200_000, ge=1024)
    sql_tool_timeout_seconds: float = Field(default=5.0, gt=0)
    # Its own small pool, ideally on a read-only role; empty uses DATABASE_URL.
    sql_tool_database_url: str = ""
    sql_tool_pool_size: int = Field(default=2, ge=1)

    # Knowledge bases: "hashing" is the offline, lexical embedder.
{%- if cookiecutter.use_openai or cookiecutter.use_gemini %} A vendor's name
    # ({% if cookiecutter.use_openai %}"openai"{% endif %}{% if cookiecutter.use_openai and cookiecutter.use_gemini %}, {% endif %}{% if cookiecutter.use_gemini %}"gemini"{% endif %}) embeds through that provider's client.
{%- endif %}
    embedding_provider: str = "hashing"
    embedding_model: str = ""
    embedding_dimension: int = Field(default=0, ge=0)
    embedding_batch_size: int = Field(default=64, ge=1)
    knowledge_chunk_tokens: int = Field(default=300, ge=16, le=8000)
    knowledge_chunk_overlap: int = Field(default=50, ge=0)
    knowledge_search_candidates: int = Field(default=50, ge=1, le=1000)
    # Largest document accepted by upload or fetched by URL; a larger one is a 413.
    knowledge_upload_max_bytes: int = Field(default=10_000_000, ge=1024)
    # Documents one process that executes runs indexes at once; the rest wait in the queue.
    knowledge_ingestion_concurrency: int = Field(default=2, ge=1)
    # Long-term memory: a new memory this similar to a kept one replaces it instead.
    memory_duplicate_similarity: float = Field(default=0.9, gt=0, le=1)
    # Recall weighs recency: a memory this many days old counts half as recent.
    memory_recency_half_life_days: float = Field(default=30.0, gt=0)
    memory_max_per_agent: int = Field(default=1000, ge=1)

    # Per-user limits on runs (execute and chat completions) and direct tool calls
    user_run_rate_limit: str = "60/minute"
    user_tool_rate_limit: str = "120/minute"
    max_concurrent_runs_per_user: int = Field(default=4, ge=1)
    # Uploads of knowledge documents per user; and, per organisation, runs, tool calls and
    # uploads by all of its members together.
    user_upload_rate_limit: str = "30/minute"
    organization_run_rate_limit: str = "600/minute"
    organization_tool_rate_limit: str = "1200/minute"
    organization_upload_rate_limit: str = "300/minute"
    # Runs one organisation's members may have pending or running at once, together
    # (unset: no cap but each member's own); an organisation's budget may set a lower one.
    organization_max_concurrent_runs: int | None = Field(default=None, ge=1)

    # Budgets: each user's default limits where no budget is set for them (unset: none).
    # Tokens count input and output; costs are in the price table's currency.
    user_daily_token_budget: int | None = Field(default=None, ge=1)
    user_monthly_token_budget: int | None = Field(default=None, ge=1)
    user_daily_cost_budget: Decimal | None = Field(
        default=None, gt=0, max_digits=14, decimal_places=6
    )
    user_monthly_cost_budget: Decimal | None = Field(
        default=None, gt=0, max_digits=14, decimal_places=6
    )
    # The longest date range one `GET /usage` may report on.
    usage_report_max_days: int = Field(default=366, ge=1)

    # Agent runs
    max_tool_iterations: int = Field(default=8, ge=1)
    history_token_budget: int = Field(default=8_000, ge=256)
    history_summary_max_tokens: int = Field(default=512, ge=16)
    sse_ping_seconds: float = Field(default=15.0, gt=0)
    # How long a run's events stay readable after its last one (for `Last-Event-ID`).
    run_events_retention_seconds: int = Field(default=3_600, ge=60)
    run_timeout_seconds: float = Field(default=600.0, gt=0)
    max_concurrent_runs: int = Field(default=100, ge=1)
    # How long an Idempotency-Key keeps naming the run it started (24 hours, as Stripe's).
    idempotency_window_seconds: int = Field(default=86_400, ge=1)
    sweep_interval_seconds: float = Field(default=15.0, gt=0)
    # Which runs a process executes: "both" serves the API and runs what it starts (one
    # process is enough); "api" queues runs for workers; "worker" runs queued runs only.
    run_role: Literal["both", "api", "worker"] = "both"
    # The run engine's own state (DBOS); empty means beside DATABASE_URL (see README).
    runs_database_url: str = ""
    # Connections the run engine keeps to a PostgreSQL RUNS database, per process.
    runs_database_pool_size: int = Field(default=10, ge=1)
    # Runs executing at once across every worker (0: no bound beyond each worker's).
    run_queue_concurrency: int = Field(default=0, ge=0)
    # How often a worker looks for queued runs, and how long a dead process's run waits.
    run_queue_poll_seconds: float = Field(default=0.2, gt=0)
    run_lease_seconds: float = Field(default=30.0, gt=0)
    shutdown_timeout_seconds: float = Field(default=10.0, gt=0)
    llm_call_timeout_seconds: float = Field(default=180.0, gt=0)

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Self:
        """A leaked default key would let anyone mint tokens, so only development may keep it."""
        if self.environment not in ("development", "test"):
            if self.secret_key.get_secret_value() == PLACEHOLDER_SECRET:
                raise ValueError("SECRET_KEY must be set outside development")
            if len(self.secret_key.get_secret_value()) < 32:
                raise ValueError("SECRET_KEY must be at least 32 characters outside development")
        return self

    @model_validator(mode="after")
    def _first_admin_needs_both(self) -> Self:
        """Half of the first admin's credentials is a mistake worth stopping start-up for."""
        has_password = bool(
            self.first_admin_password and self.first_admin_password.get_secret_value()
        )
        if bool(self.first_admin_email) != has_password:
            raise ValueError("Set FIRST_ADMIN_EMAIL and FIRST_ADMIN_PASSWORD together")
        return self

    @field_validator("agent_templates_dir")
    @classmethod
    def _within_the_project(cls, value: Path) -> Path:
        """A relative folder is the project's, wherever the process was started from."""
        return value if value.is_absolute() else PROJECT_ROOT / value

    @field_validator("mcp_encryption_key")
    @classmethod
    def _is_a_fernet_key(cls, value: SecretStr | None) -> SecretStr | None:
        """A malformed key would fail the first stored header; refuse it at start-up instead."""
        if value is None or not value.get_secret_value():
            return None
        try:
            raw = base64.urlsafe_b64decode(value.get_secret_value().encode())
        except ValueError:
            raw = b""
        if len(raw) != 32:
            raise ValueError("MCP_ENCRYPTION_KEY must be a Fernet key (32 url-safe base64 bytes)")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: list[str]) -> list[str]:
        """Only named proxies may speak for a client; a wildcard would let anyone choose."""
        for entry in value:
            try:
                ipaddress.ip_network(entry.strip(), strict=False)
            except ValueError:
                raise ValueError(
                    f"TRUSTED_PROXIES entries must be IP addresses or networks such as "
                    f"10.0.0.0/8, not {entry!r}: a proxy list that matches any client "
                    f"would let every caller choose its own address"
                ) from None
        return [entry.strip() for entry in value]

    @field_validator(
        "log_json",
        "playground_enabled",
        "docs_enabled",
        "first_admin_password",
        "metrics_token",
        "password_hash_threads",
        "database_pool_pre_ping",
        "organization_max_concurrent_runs",
        "user_daily_token_budget",
        "user_monthly_token_budget",
        "user_daily_cost_budget",
        "user_monthly_cost_budget",
{%- if cookiecutter.use_opentelemetry %}
        "otel_exporter_otlp_endpoint",
{%- endif %}
        mode="before",
    )
    @classmethod
    def _empty_means_unset(cls, value: object) -> object:
        """`PLAYGROUND_ENABLED=` (or an empty password) in a .env file means not set."""
        return None if value == "" else value

    @model_validator(mode="after")
    def _playground_default(self) -> Self:
        """A page for trying agents belongs on developers' machines; production opts in."""
        if self.playground_enabled is None:
            self.playground_enabled = self.environment in ("development", "test")
        return self

    @model_validator(mode="after")
    def _log_json_default(self) -> Self:
        """Deployed logs go to shippers that parse JSON; a developer reads text."""
        if self.log_json is None:
            self.log_json = self.environment in ("staging", "production")
        return self

    @model_validator(mode="after")
    def _docs_default(self) -> Self:
        """A map of every route helps attackers too, so production publishes it only on request."""
        if self.docs_enabled is None:
            self.docs_enabled = self.environment != "production"
        return self

    @model_validator(mode="after")
    def _refuse_any_origin(self) -> Self:
        """Credentials go with every CORS answer, so any origin would be any site as the user."""
        if "*" in self.cors_origins:
            raise ValueError(
                'CORS_ORIGINS=["*"] would let any website call the API with its visitors\' '
                "credentials; list the allowed origins instead"
            )
        return self

    @model_validator(mode="after")
    def _overlap_below_chunk_size(self) -> Self:
        """An overlap as long as the chunk would never move the window forward."""
        if self.knowledge_chunk_overlap >= self.knowledge_chunk_tokens:
            raise ValueError("KNOWLEDGE_CHUNK_OVERLAP must be below KNOWLEDGE_CHUNK_TOKENS")
        return self

    @property
    def pool_pre_ping(self) -> bool:
        """A server may close connections (a restart, an idle timeout); a SQLite file cannot."""
        if self.database_pool_pre_ping is None:
            return not self.is_sqlite
        return self.database_pool_pre_ping

    @property
    def is_sqlite(self) -> bool:
        """SQLite needs a few engine options of its own."""
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests build their own `Settings` instead."""
    return Settings()
