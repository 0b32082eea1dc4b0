"""The shared Redis cache with fewer round trips per rate-limit check.

Django's ``RedisCache`` builds a new ``redis.Redis`` object on every call (over a
shared pool) and answers ``incr`` with EXISTS then INCRBY. This backend keeps one
client per connection pool and increments with a single server-side script that
still refuses (``ValueError``) a key that does not exist, as Django's contract says.
``count_in_window`` is a rate limit's whole check in one round trip: create the window's
counter with its expiry, or increment it (``core.ratelimit``).
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

# INCR creates a missing counter at 1 (Django's Redis serializer stores ints as plain
# integers, so the counter is the one ``cache.add``/``cache.incr`` would have made);
# the first increment of a window sets its expiry, in the same atomic script.
_COUNT_IN_WINDOW = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return count
"""


class PooledRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}
        self._incr_script: Any = None
        self._count_script: Any = None

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

    def count_in_window(self, key: Any, timeout: int) -> int:
        client = self.get_client(key, write=True)
        if self._count_script is None:
            self._count_script = client.register_script(_COUNT_IN_WINDOW)
        return int(self._count_script(keys=[key], args=[int(timeout)], client=client))


class PooledRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = PooledRedisCacheClient

    def count_in_window(self, key: str, timeout: int, version: int | None = None) -> int:
        """Count one more hit on ``key``: 1 for a new counter, which expires after
        ``timeout`` seconds; the new count otherwise. One round trip."""
        key = self.make_and_validate_key(key, version=version)
        client: Any = self._cache  # a PooledRedisCacheClient (set in __init__)
        return int(client.count_in_window(key, timeout))
