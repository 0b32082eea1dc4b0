"""Infrastructure outages (database, cache, broker unreachable) answer 503 with a
``Retry-After``, in the JSON error envelope (SPEC §9), never a 500."""

from __future__ import annotations

import sys

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

from core.errors import ApplicationError, ErrorCode


def _outage_types() -> tuple[type[BaseException], ...]:
    from kombu.exceptions import OperationalError as BrokerError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return (OperationalError, InterfaceError, BrokerError, RedisConnectionError, RedisTimeoutError)


def is_outage(exc: BaseException) -> bool:
    """True for errors that mean a dependency is unreachable, not a bug or bad input."""
    return isinstance(exc, _outage_types())


def outage_error() -> ApplicationError:
    retry_after = int(getattr(settings, "IMAGEGATE_OUTAGE_RETRY_AFTER_SECONDS", 5))
    return ApplicationError(
        ErrorCode.SERVICE_UNAVAILABLE,
        "A service this request needs is unavailable; try again shortly.",
        details={"retry_after": retry_after},
        headers={"Retry-After": str(retry_after)},
    )


def outage_response(request: HttpRequest, *, json: bool) -> HttpResponse | None:
    """For Django's 500 handler (outside DRF: pages, middleware): 503 + Retry-After when
    the exception being handled is an outage, else ``None``. Renders no template, which
    could need the database that is gone."""
    exc = sys.exc_info()[1]
    if exc is None or not is_outage(exc):
        return None
    error = outage_error()
    response: HttpResponse
    if json:
        response = JsonResponse(error.as_body(), status=error.status)
    else:
        response = HttpResponse(
            error.message, status=error.status, content_type="text/plain; charset=utf-8"
        )
    for name, value in error.headers.items():
        response[name] = value
    return response
