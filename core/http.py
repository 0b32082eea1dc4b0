"""Untrusted request input: bounded JSON parsing and the bad-input middleware.

Every refusal here is a 400 ``invalid_request``: in the JSON envelope for the API and
the webhooks, the plain 400 page for everything else. Nothing reaches a view (and so
nothing is stored) when a request fails these checks.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError

from core.errors import ApplicationError, ErrorCode, error_body

logger = logging.getLogger(__name__)

JSON_PATH_PREFIXES = ("/api/", "/billing/stripe/", "/accounts/stripe/")
WEBHOOK_PATH_PREFIXES = ("/billing/stripe/", "/accounts/stripe/")
FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class InvalidJson(ValueError):
    """The text is not JSON we accept (malformed, or nested too deeply to parse)."""


def json_loads_bounded(text: str | bytes) -> Any:
    """``json.loads`` for untrusted text: deep nesting raises ``InvalidJson``, not
    ``RecursionError`` (CPython's parser recurses once per nesting level)."""
    try:
        return json.loads(text)
    except RecursionError as exc:
        raise InvalidJson("The JSON is nested too deeply.") from exc
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise InvalidJson(f"Not valid JSON: {exc}") from exc


def json_object_from_body(body: bytes) -> dict[str, Any]:
    """A request body that must be one JSON object (webhooks); 400 otherwise."""
    try:
        data = json_loads_bounded(body)
    except InvalidJson as exc:
        raise ApplicationError(ErrorCode.INVALID_REQUEST, str(exc)) from exc
    if not isinstance(data, dict):
        raise ApplicationError(ErrorCode.INVALID_REQUEST, "The body must be a JSON object.")
    return data


def wants_json(request: HttpRequest) -> bool:
    return request.path.startswith(JSON_PATH_PREFIXES)


def bad_request_response(request: HttpRequest, message: str) -> HttpResponse:
    """400 in the JSON envelope for API paths, the 400 page for the rest."""
    if wants_json(request):
        return JsonResponse(error_body(ErrorCode.INVALID_REQUEST, message), status=400)
    from django.shortcuts import render

    return render(request, "400.html", {"message": message}, status=400)


def _has_nul(values: Iterable[tuple[str, list[Any]]]) -> bool:
    for key, items in values:
        if "\x00" in key or any(isinstance(item, str) and "\x00" in item for item in items):
            return True
    return False


def _declared_length(request: HttpRequest) -> int:
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return -1


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


def body_limit_for(request: HttpRequest) -> int:
    """The largest body accepted: uploads (multipart) may carry an image file."""
    content_type = request.META.get("CONTENT_TYPE", "")
    if content_type.startswith("multipart/form-data"):
        return int(settings.IMAGEGATE_MAX_UPLOAD_BYTES)
    return int(settings.IMAGEGATE_MAX_BODY_BYTES)


class BadInputMiddleware:
    """Refuses, before any view runs: a body larger than the configured limit, a
    malformed ``Content-Length``, too many form fields, an unreadable multipart body
    and NUL characters in the query string or form fields (PostgreSQL cannot store
    them in text columns, and no legitimate form sends one).

    JSON bodies are checked by the parser that reads them (``core.api``), because
    only it knows whether a view reads JSON at all.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refusal = self.check(request)
        if refusal is not None:
            return bad_request_response(request, refusal)
        return self.get_response(request)

    def check(self, request: HttpRequest) -> str | None:
        length = _declared_length(request)
        if length < 0:
            return "The Content-Length header is not a number."
        if length > body_limit_for(request):
            return "The request body is too large."
        if _has_nul(request.GET.lists()):
            return "The query string contains a NUL character."
        content_type = request.META.get("CONTENT_TYPE", "")
        is_webhook = request.path.startswith(WEBHOOK_PATH_PREFIXES)
        if _is_json(content_type) and not is_webhook:
            # Every URL, whether or not its view reads the body: a body declared as JSON
            # that is malformed, deeply nested or not UTF-8 is refused the same way.
            body = request.body
            if body.strip():
                try:
                    json_loads_bounded(body)
                except InvalidJson as exc:
                    return str(exc)
        # Webhooks read the raw body themselves (parsing a multipart body here would
        # consume it); they accept JSON objects only.
        if (
            request.method in ("POST", "PUT", "PATCH")
            and content_type.startswith(FORM_CONTENT_TYPES)
            and not is_webhook
        ):
            try:
                fields = list(request.POST.lists())
            except (SuspiciousOperation, MultiPartParserError) as exc:
                # RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent, bad boundaries.
                logger.info("Refused a form body: %s", type(exc).__name__)
                if isinstance(exc, RequestDataTooBig):
                    return "The request body is too large."
                return "The form data could not be read."
            if _has_nul(fields):
                return "A form field contains a NUL character."
            names = [
                upload.name or "" for _, uploads in request.FILES.lists() for upload in uploads
            ]
            if any("\x00" in name for name in names):
                return "A file name contains a NUL character."
        return None


class SecurityHeadersMiddleware:
    """Headers django-csp and Django's SecurityMiddleware do not set.

    * ``Permissions-Policy``: no camera, microphone, geolocation, payment API, ...
    * ``Cache-Control: no-store`` on API answers for a signed-in user or an API key,
      unless the view chose its own caching: they are private to one person.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        if wants_json(request) and _is_private(request):
            cache_control = response.headers.get("Cache-Control", "")
            if "no-store" not in cache_control:
                response.headers["Cache-Control"] = "private, no-store"
        return response


def _is_private(request: HttpRequest) -> bool:
    if request.headers.get("Authorization"):
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)
