"""Rate limits on django-ratelimit and the shared cache (Redis in production).

Every limit lives in settings and is listed in docs/security.md. A check is one
``get_usage(..., increment=True)``: django-ratelimit's ``cache.add`` (SET NX) and,
once the window's counter exists, ``cache.incr``, which ``core.cache.PooledRedisCache``
answers in one round trip (a script, instead of Django's EXISTS + INCRBY).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage

from core.errors import ApplicationError, ErrorCode


@dataclass(frozen=True)
class RateLimitResult:
    allowed: bool
    retry_after: int


def rate_limit_hit(
    *, key: str, limit: int, window_seconds: int = 60, group: str = "imagegate"
) -> RateLimitResult:
    """Count one request against ``limit`` per window; refuse once the window is full.

    django-ratelimit's counter is created with an atomic add and bumped with an atomic
    increment, so concurrent web processes never let more than ``limit`` through in
    one window.
    """
    usage = get_usage(
        None,
        group=group,
        key=lambda _group, _request: key,
        rate=f"{max(0, int(limit))}/{int(window_seconds)}s",
        increment=True,
    )
    if usage is None:  # RATELIMIT_ENABLE = False
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
