"""A fixed-window request counter on the shared cache (Redis in production)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.core.cache import cache


@dataclass(frozen=True)
class RateLimitResult:
    allowed: bool
    retry_after: int


def rate_limit_hit(*, key: str, limit: int, window_seconds: int = 60) -> RateLimitResult:
    """Count one request against ``limit`` per window; refuse once the window is full.

    The counter is created with ``add`` and bumped with ``incr``, both atomic in Redis,
    so concurrent web processes never let more than ``limit`` through in one window.
    """
    now = time.time()
    window = int(now // window_seconds)
    cache_key = f"ratelimit:{key}:{window}"
    cache.add(cache_key, 0, timeout=window_seconds + 5)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, timeout=window_seconds + 5)
        count = 1
    retry_after = max(1, int((window + 1) * window_seconds - now) + 1)
    return RateLimitResult(allowed=count <= limit, retry_after=retry_after)
