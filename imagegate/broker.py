"""kombu's Redis transport, with one Redis client per channel for publishing.

kombu's Redis channel builds a new ``redis.Redis`` object for every message it publishes
(``conn_or_acquire`` without a client), over the channel's own connection pool; building
one (its response-callback table) cost about a fifth of a submit's publish. A
``redis.Redis`` over a pool is safe to share, so the channel keeps one per pool and
builds a new one only when the pool is replaced. Everything else is kombu's.
Named by ``imagegate.celery.build_config`` (``broker_transport``) for ``redis://`` brokers.
"""

from __future__ import annotations

from typing import Any

from kombu.transport import redis


class Channel(redis.Channel):
    _publish_client: tuple[Any, Any] | None = None

    def _create_client(self, asynchronous: bool = False) -> Any:
        if asynchronous:
            return super()._create_client(asynchronous=True)
        pool = self.pool
        cached = self._publish_client
        if cached is None or cached[0] is not pool:
            cached = (pool, super()._create_client())
            self._publish_client = cached
        return cached[1]


class Transport(redis.Transport):
    Channel = Channel
