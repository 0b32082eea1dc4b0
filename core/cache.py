"""The shared Redis cache with fewer round trips per rate-limit check.

Django's ``RedisCache`` builds a new ``redis.Redis`` object on every call (over a
shared pool) and answers ``incr`` with EXISTS then INCRBY. This backend keeps one
client per connection pool and increments with a single server-side script that
still refuses (``ValueError``) a key that does not exist, as Django's contract says.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

_INCR_EXISTING = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.call('INCRBY', KEYS[1], ARGV[1])
end
return nil
"""


class PooledRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}
        self._incr_script: Any = None

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        base: Any = self  # django-stubs do not declare these private helpers
        index = base._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = base._client(connection_pool=base._get_connection_pool(write))
            self._clients[index] = client
        return client

    def incr(self, key: Any, delta: int) -> Any:
        client = self.get_client(key, write=True)
        if self._incr_script is None:
            self._incr_script = client.register_script(_INCR_EXISTING)
        value = self._incr_script(keys=[key], args=[delta], client=client)
        if value is None:
            raise ValueError(f"Key '{key}' not found.")
        return value


class PooledRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = PooledRedisCacheClient
