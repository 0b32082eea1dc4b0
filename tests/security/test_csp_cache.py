"""core.csp.CSPMiddleware writes exactly the headers django-csp's own middleware writes,
while building the site policy once."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import pytest
from csp.exceptions import CSPNonceError
from csp.middleware import CSPMiddleware as DjangoCspMiddleware
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.test import RequestFactory, override_settings

from core.csp import CSPMiddleware

HEADERS = ("Content-Security-Policy", "Content-Security-Policy-Report-Only")


def _plain(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


def _decorated(request: HttpRequest) -> HttpResponse:
    response = HttpResponse("ok")
    response._csp_update = {"script-src": ["'unsafe-inline'"]}  # type: ignore[attr-defined]
    return response


def _with_nonce(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"<script nonce='{request.csp_nonce}'></script>")  # type: ignore[attr-defined]


def _exempt(request: HttpRequest) -> HttpResponse:
    response = HttpResponse("ok")
    response._csp_exempt = True  # type: ignore[attr-defined]
    return response


def _own_header(request: HttpRequest) -> HttpResponse:
    response = HttpResponse("ok")
    response["Content-Security-Policy"] = "default-src 'none'"
    return response


def _respond(middleware: DjangoCspMiddleware, request: HttpRequest) -> HttpResponseBase:
    return cast(HttpResponseBase, middleware(request))


def _headers(middleware: type[DjangoCspMiddleware], view: Callable, path: str) -> dict:
    request = RequestFactory().get(path)
    response = _respond(middleware(view), request)
    nonce = getattr(request, "_csp_nonce", None)
    found = {name: response.get(name) for name in HEADERS}
    return {
        name: value.replace(nonce, "NONCE") if value and nonce else value
        for name, value in found.items()
    }


VIEWS = [_plain, _decorated, _with_nonce, _exempt, _own_header]
REPORT_ONLY = {
    "DIRECTIVES": {"default-src": ["'self'"], "report-uri": "/csp-report"},
    "EXCLUDE_URL_PREFIXES": ["/api/"],
}


@pytest.mark.parametrize("view", VIEWS, ids=lambda view: view.__name__)
@pytest.mark.parametrize("path", ["/", "/api/v1/generations"])
def test_same_headers_as_django_csp(view: Callable, path: str) -> None:
    ours = _headers(CSPMiddleware, view, path)
    assert ours == _headers(DjangoCspMiddleware, view, path)
    if view is _exempt:
        assert ours["Content-Security-Policy"] is None
    else:
        assert ours["Content-Security-Policy"]


@pytest.mark.parametrize("view", VIEWS, ids=lambda view: view.__name__)
@pytest.mark.parametrize("path", ["/", "/api/v1/generations"])
def test_same_headers_with_a_report_only_policy(view: Callable, path: str) -> None:
    with override_settings(CONTENT_SECURITY_POLICY_REPORT_ONLY=REPORT_ONLY):
        ours = _headers(CSPMiddleware, view, path)
        assert ours == _headers(DjangoCspMiddleware, view, path)
    excluded = path.startswith("/api/")  # _csp_exempt is the enforced header's alone
    assert (ours["Content-Security-Policy-Report-Only"] is None) is excluded


def test_the_cached_policy_follows_the_settings() -> None:
    middleware = CSPMiddleware(_plain)
    before = _respond(middleware, RequestFactory().get("/"))["Content-Security-Policy"]
    other = {"DIRECTIVES": {"default-src": ["'none'"], "img-src": ["https://example.com"]}}
    with override_settings(CONTENT_SECURITY_POLICY=other):
        changed = _respond(middleware, RequestFactory().get("/"))["Content-Security-Policy"]
    assert changed != before
    assert "img-src https://example.com" in changed
    assert _respond(middleware, RequestFactory().get("/"))["Content-Security-Policy"] == before


def test_a_nonce_asked_for_after_the_header_is_an_error() -> None:
    request = RequestFactory().get("/")
    CSPMiddleware(_plain)(request)
    with pytest.raises(CSPNonceError):
        str(request.csp_nonce)  # type: ignore[attr-defined]
