"""Rate limits on django-ratelimit and the shared cache (Redis in production).

Every limit lives in settings and is listed in docs/security.md. A check counts one hit
in django-ratelimit's window (its window, cache key and settings): on
``core.cache.PooledRedisCache`` in one round trip (``count_in_window``: a script that
increments the window's counter and gives a new one its expiry); on another cache, one
``get_usage(..., increment=True)`` (``cache.add``, then ``cache.incr`` once the window's
counter exists).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest
from django_ratelimit import ALL
from django_ratelimit.core import EXPIRATION_FUDGE, _get_window, _make_cache_key, get_usage

from core.errors import ApplicationError, ErrorCode


@dataclass(frozen=True)
class RateLimitResult:
    allowed: bool
    retry_after: int


def rate_limit_hit(
    *, key: str, limit: int, window_seconds: int = 60, group: str = "imagegate"
) -> RateLimitResult:
    """Count one request against ``limit`` per window; refuse once the window is full.

    The window's counter is created and bumped atomically (one script on Redis;
    django-ratelimit's add-then-increment elsewhere), so concurrent web processes never
    let more than ``limit`` through in one window.
    """
    if not getattr(settings, "RATELIMIT_ENABLE", True):
        return RateLimitResult(allowed=True, retry_after=0)
    limit, window_seconds = max(0, int(limit)), int(window_seconds)
    rate = f"{limit}/{window_seconds}s"
    cache = caches[getattr(settings, "RATELIMIT_USE_CACHE", "default")]
    count_in_window = getattr(cache, "count_in_window", None)
    if count_in_window is None:
        return _hit_with_get_usage(key=key, rate=rate, group=group)
    window = _get_window(key, window_seconds)
    cache_key = _make_cache_key(group, window, rate, key, ALL)
    count = count_in_window(cache_key, window_seconds + EXPIRATION_FUDGE)
    return RateLimitResult(
        allowed=count <= limit, retry_after=max(1, window - int(time.time()) + 1)
    )


def _hit_with_get_usage(*, key: str, rate: str, group: str) -> RateLimitResult:
    usage = get_usage(
        None, group=group, key=lambda _group, _request: key, rate=rate, increment=True
    )
    if usage is None:  # RATELIMIT_FAIL_OPEN after a failed cache call
        return RateLimitResult(allowed=True, retry_after=0)
    return RateLimitResult(
        allowed=not usage["should_limit"], retry_after=max(1, int(usage["time_left"]) + 1)
    )


def rate_limit_enforce(
    *, key: str, limit: int, window_seconds: int, group: str, what: str
) -> RateLimitResult:
    """``rate_limit_hit``, raising 429 ``rate_limited`` with ``Retry-After`` when full."""
    result = rate_limit_hit(key=key, limit=limit, window_seconds=window_seconds, group=group)
    if not result.allowed:
        raise ApplicationError(
            ErrorCode.RATE_LIMITED,
            f"At most {limit} {what} every {window_seconds} seconds.",
            details={"retry_after": result.retry_after},
            headers={"Retry-After": str(result.retry_after)},
        )
    return result


def client_ip(request: HttpRequest | Any) -> str:
    """The client's IP, behind ``ALLAUTH_TRUSTED_PROXY_COUNT`` proxies (as login uses)."""
    from allauth.account.adapter import get_adapter

    return str(get_adapter().get_client_ip(getattr(request, "_request", request)))


def provenance_verify_limit(request: Any) -> None:
    """Provenance verification decodes images: limited per API key (or account) and per
    client IP, each in its own bucket (docs/security.md)."""
    window = int(settings.PROVENANCE_VERIFY_WINDOW_SECONDS)
    auth: Any = getattr(request, "auth", None)
    principal = f"key:{auth.pk}" if auth is not None else f"user:{request.user.pk}"
    rate_limit_enforce(
        key=principal,
        limit=int(settings.PROVENANCE_VERIFY_PER_PRINCIPAL),
        window_seconds=window,
        group="provenance-verify:principal",
        what="image verifications per key",
    )
    rate_limit_enforce(
        key=client_ip(request),
        limit=int(settings.PROVENANCE_VERIFY_PER_IP),
        window_seconds=window,
        group="provenance-verify:ip",
        what="image verifications per address",
    )
