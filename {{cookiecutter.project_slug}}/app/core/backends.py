"""The one place that chooses the shared-state backends from settings.

The backends themselves (`store`, `rate_limit` and their Redis variants) know nothing
of each other or of settings, so a new backend is a new leaf plus one branch here.
"""

from __future__ import annotations
{% if cookiecutter.use_redis %}
from functools import partial
{% endif %}
from limits.aio.storage import MemoryStorage

from app.core.config import Settings
from app.core.rate_limit import RateLimiter
from app.core.store import KeyValueStore, MemoryStore
{%- if cookiecutter.use_redis %}, StoreUnavailableError{% endif %}
from app.core.throttle import AuthThrottle, DelayPolicy
{%- if cookiecutter.use_redis %}
from app.core.waiting import Backoff, DependencyUnreachableError, wait_until_reachable
{%- endif %}


def create_store(settings: Settings) -> KeyValueStore:
    """Redis when it is configured, so every worker shares state; else this process's memory."""
{%- if cookiecutter.use_redis %}
    if settings.redis_url:
        from app.core.store_redis import RedisStore

        return RedisStore.from_url(
            settings.redis_url,
            socket_timeout=settings.redis_socket_timeout_seconds,
            max_connections=settings.redis_max_connections,
            pool_timeout=settings.redis_pool_timeout_seconds,
        )
{%- endif %}
    return MemoryStore()


async def wait_for_store(settings: Settings) -> None:
{%- if cookiecutter.use_redis %}
    """Start-up waits for Redis when it backs the store, as for the database; memory needs none.

    Raises:
        DependencyUnreachableError: Redis did not answer within REDIS_CONNECT_ATTEMPTS.
    """
{%- else %}
    """Start-up waits for nothing here: the in-process store needs no connection."""
{%- endif %}
{%- if cookiecutter.use_redis %}
    if not settings.redis_url:
        return
    from app.core.store_redis import ping_once, redis_location

    location = redis_location(settings.redis_url)
    attempts = settings.redis_connect_attempts

    def give_up(reason: str) -> DependencyUnreachableError:
        return DependencyUnreachableError(
            f"REDIS_URL: Redis at {location} is unreachable after {attempts} attempts "
            f"({reason}); start it or correct REDIS_URL"
        )

    await wait_until_reachable(
        "redis",
        partial(
            ping_once, settings.redis_url, timeout_seconds=settings.redis_socket_timeout_seconds
        ),
        Backoff(
            attempts,
            settings.redis_connect_backoff_seconds,
            settings.redis_connect_max_backoff_seconds,
        ),
        location=location,
        outages=(StoreUnavailableError, OSError),
        attempt_timeout_seconds=settings.redis_socket_timeout_seconds + 1,
        give_up=give_up,
    )
{%- endif %}


def create_rate_limiter(settings: Settings) -> RateLimiter:
    """Counters shared through Redis when it is configured, else kept in this process."""
{%- if cookiecutter.use_redis %}
    if settings.redis_url:
        from app.core.rate_limit_redis import create_redis_rate_limiter

        return create_redis_rate_limiter(
            settings.redis_url,
            settings.auth_rate_limit,
            timeout_seconds=settings.redis_socket_timeout_seconds,
        )
{%- endif %}
    return RateLimiter(MemoryStorage(), settings.auth_rate_limit)


def create_auth_throttle(settings: Settings, limiter: RateLimiter) -> AuthThrottle:
    """Sign-in delays kept beside the rate limiter's counters, in the same backend."""
    return AuthThrottle(
        limiter.storage,
        per_account=DelayPolicy(
            free_failures=settings.auth_free_failures_per_account,
            max_delay_seconds=settings.auth_max_delay_seconds,
        ),
        per_address=DelayPolicy(
            free_failures=settings.auth_free_failures_per_address,
            max_delay_seconds=settings.auth_max_delay_seconds,
        ),
    )
