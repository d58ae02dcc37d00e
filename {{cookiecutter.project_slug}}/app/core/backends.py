"""The one place that chooses the shared-state backends from settings.

The backends themselves (`store`, `rate_limit` and their Redis variants) know nothing
of each other or of settings, so a new backend is a new leaf plus one branch here.
"""

from __future__ import annotations

from limits.aio.storage import MemoryStorage

from app.core.config import Settings
from app.core.rate_limit import RateLimiter
from app.core.store import KeyValueStore, MemoryStore
from app.core.throttle import AuthThrottle, DelayPolicy


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
