"""The Redis backend of the key-value store, shared by every worker and replica."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.exceptions import RedisError


class RedisStore:
    """Thin async wrapper that keeps Redis types out of the rest of the code."""

    def __init__(self, client: Redis) -> None:
        self.client = client

    @classmethod
    def from_url(cls, url: str) -> RedisStore:
        return cls(Redis.from_url(url, decode_responses=True))

    async def set(self, key: str, value: str, *, ttl_seconds: int | None = None) -> None:
        await self.client.set(key, value, ex=ttl_seconds or None)

    async def add(self, key: str, value: str, *, ttl_seconds: int | None = None) -> bool:
        return bool(await self.client.set(key, value, ex=ttl_seconds or None, nx=True))

    async def get(self, key: str) -> str | None:
        value = await self.client.get(key)
        return None if value is None else str(value)

    async def delete(self, key: str) -> None:
        await self.client.delete(key)

    async def ping(self) -> bool:
        try:
            return bool(await self.client.ping())
        except RedisError:
            return False

    async def close(self) -> None:
        await self.client.aclose()
