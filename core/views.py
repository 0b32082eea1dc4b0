"""Plumbing views: health probes, public pages and JSON-aware error pages."""

from __future__ import annotations

import logging
from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.errors import DEFAULT_MESSAGES, ErrorCode, error_body
from core.http import wants_json
from core.outages import outage_response

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Touches no dependency."""
    return JsonResponse({"status": "ok"})


def _check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _check_broker() -> str | None:
    from celery import current_app as app
    from django.conf import settings

    try:
        with app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: the database and the broker are reachable; 503 otherwise."""
    problems = {
        name: error
        for name, error in (("database", _check_database()), ("broker", _check_broker()))
        if error
    }
    if problems:
        logger.warning("Not ready: %s", problems)
        body = error_body(
            ErrorCode.SERVICE_UNAVAILABLE,
            "A dependency is unavailable.",
            {name: "unreachable" for name in problems},
        )
        return JsonResponse(body, status=503)
    return JsonResponse({"status": "ready", "checks": {"database": "ok", "broker": "ok"}})


def landing(request: HttpRequest) -> HttpResponse:
    return render(request, "core/landing.html")


def content_policy(request: HttpRequest) -> HttpResponse:
    return render(request, "core/policy.html")


def _wants_json(request: HttpRequest) -> bool:
    return wants_json(request)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(
            error_body(ErrorCode.NOT_FOUND, DEFAULT_MESSAGES[ErrorCode.NOT_FOUND]), status=404
        )
    return render(request, "404.html", status=404)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(
            error_body(ErrorCode.PERMISSION_DENIED, DEFAULT_MESSAGES[ErrorCode.PERMISSION_DENIED]),
            status=403,
        )
    return render(request, "403.html", status=403)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(
            error_body(ErrorCode.INVALID_REQUEST, DEFAULT_MESSAGES[ErrorCode.INVALID_REQUEST]),
            status=400,
        )
    return render(request, "400.html", status=400)


def server_error(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    outage = outage_response(request, json=_wants_json(request))
    if outage is not None:
        return outage
    if _wants_json(request):
        return JsonResponse(
            error_body(ErrorCode.INTERNAL_ERROR, DEFAULT_MESSAGES[ErrorCode.INTERNAL_ERROR]),
            status=500,
        )
    return render(request, "500.html", status=500)
