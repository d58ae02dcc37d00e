"""Settings: defaults that run anywhere, and a refusal to run production on a known secret."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.core.config import PLACEHOLDER_SECRET, Settings, get_settings
from tests.support.settings import settings_from

STRONG_SECRET = "s" * 32


def make(**values: object) -> Settings:
    """Settings from arguments only, never from a developer's .env file."""
    return settings_from(values)


@pytest.mark.parametrize("environment", ["development", "test"])
def test_development_and_test_may_keep_the_placeholder_secret(environment: str) -> None:
    settings = make(environment=environment)
    assert settings.secret_key.get_secret_value() == PLACEHOLDER_SECRET


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_placeholder_secret_is_refused_outside_development(environment: str) -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY must be set"):
        make(environment=environment)


def test_short_secret_is_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="at least 32 characters"):
        make(environment="production", secret_key="s" * 31)


def test_strong_secret_is_accepted_in_production() -> None:
    settings = make(environment="production", secret_key=STRONG_SECRET)
    assert settings.secret_key.get_secret_value() == STRONG_SECRET


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", STRONG_SECRET)
    monkeypatch.setenv("ACCESS_TOKEN_EXPIRE_MINUTES", "5")
    monkeypatch.setenv("AUTH_RATE_LIMIT", "3/minute")
    settings = make()
    assert settings.environment == "production"
    assert settings.access_token_expire_minutes == 5
    assert settings.auth_rate_limit == "3/minute"


def test_placeholder_from_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", PLACEHOLDER_SECRET)
    with pytest.raises(ValidationError):
        make()


def test_secret_is_not_shown_in_reprs() -> None:
    settings = make(environment="production", secret_key=STRONG_SECRET)
    assert STRONG_SECRET not in repr(settings)
    assert STRONG_SECRET not in str(settings.model_dump())


@pytest.mark.parametrize(
    "values",
    [
        {"environment": "prod"},
        {"password_min_length": 7},
        {"access_token_expire_minutes": 0},
        {"jwt_algorithm": "none"},
        {"jwt_algorithm": "RS256"},
    ],
)
def test_unsafe_or_invalid_values_are_refused(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        make(**values)


def test_default_database_is_a_local_sqlite_file() -> None:
    settings = make()
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.is_sqlite
    assert not make(database_url="postgresql+asyncpg://db/app").is_sqlite


def test_get_settings_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "test")
    get_settings.cache_clear()
    try:
        assert get_settings() is get_settings()
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize(
    ("environment", "enabled"),
    [("development", True), ("test", True), ("staging", False), ("production", False)],
)
def test_playground_defaults_to_on_only_where_developers_work(
    environment: str, enabled: bool
) -> None:
    assert make(environment=environment, secret_key=STRONG_SECRET).playground_enabled is enabled


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("PLAYGROUND_ENABLED", "true", True),
        ("PLAYGROUND_ENABLED", "false", False),
        ("PLAYGROUND_ENABLED", "", False),
        ("LOG_JSON", "false", False),
        ("LOG_JSON", "true", True),
        ("LOG_JSON", "", True),
    ],
)
def test_production_switches_from_the_environment_and_empty_means_the_default(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: bool
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", STRONG_SECRET)
    monkeypatch.setenv(variable, value)
    assert getattr(make(), variable.lower()) is expected


def test_development_may_switch_the_playground_off() -> None:
    assert make(environment="development", playground_enabled=False).playground_enabled is False


@pytest.mark.parametrize(
    ("environment", "enabled"),
    [("development", True), ("test", True), ("staging", True), ("production", False)],
)
def test_api_docs_are_off_by_default_only_in_production(environment: str, enabled: bool) -> None:
    assert make(environment=environment, secret_key=STRONG_SECRET).docs_enabled is enabled


def test_production_may_turn_the_api_docs_on() -> None:
    settings = make(environment="production", secret_key=STRONG_SECRET, docs_enabled=True)
    assert settings.docs_enabled is True


@pytest.mark.parametrize(
    ("environment", "as_json"),
    [("development", False), ("test", False), ("staging", True), ("production", True)],
)
def test_deployed_environments_log_json_by_default(environment: str, as_json: bool) -> None:
    assert make(environment=environment, secret_key=STRONG_SECRET).log_json is as_json


def test_any_origin_with_credentials_is_refused_with_a_clear_message() -> None:
    with pytest.raises(ValidationError, match=r"CORS_ORIGINS=\[\"\*\"\] would let any website"):
        make(cors_origins=["https://app.example.com", "*"])


def test_request_body_cap_cannot_be_set_absurdly_low() -> None:
    with pytest.raises(ValidationError):
        make(max_request_body_bytes=10)


@pytest.mark.parametrize(
    ("url", "setting", "expected"),
    [
        ("sqlite+aiosqlite:///data/app.db", "", False),
        ("postgresql+asyncpg://app@db:5432/app", "", True),
        ("postgresql+asyncpg://app@db:5432/app", "false", False),
        ("sqlite+aiosqlite:///data/app.db", "true", True),
    ],
)
def test_pooled_connections_are_checked_where_a_server_can_close_them(
    url: str, setting: str, expected: bool
) -> None:
    settings = settings_from({"database_url": url, "database_pool_pre_ping": setting})
    assert settings.pool_pre_ping is expected


@pytest.mark.parametrize(
    "name",
    [
        "user_daily_token_budget",
        "user_monthly_token_budget",
        "user_daily_cost_budget",
        "user_monthly_cost_budget",
    ],
)
def test_an_empty_budget_setting_means_no_limit(name: str) -> None:
    """`USER_DAILY_TOKEN_BUDGET=` in a .env file, as .env.example shows it, sets no limit."""
    assert getattr(make(**{name: ""}), name) is None
    assert getattr(make(**{name: "7"}), name) == 7
