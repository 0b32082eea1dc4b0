"""django-csp's middleware, with the site's own policy built once per process.

django-csp builds the ``Content-Security-Policy`` header (and the report-only one) anew
for every response, from the settings, the view's decorators and the nonce. Most
responses have neither a decorator nor a nonce (every API answer), and then the header
is the same every time: here it is built once per settings object and reused. A
response with either goes to django-csp unchanged.
"""

from __future__ import annotations

import http.client
from typing import Any

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as DjangoCspMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase

# What django-csp's decorators set on a response (csp.decorators).
_PER_RESPONSE = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
)
# django-csp leaves these without a header when DEBUG is on (its debug pages).
_DEBUG_EXEMPT = (http.client.INTERNAL_SERVER_ERROR, http.client.NOT_FOUND)


class CSPMiddleware(DjangoCspMiddleware):
    """``csp.middleware.CSPMiddleware`` with the undecorated, nonce-free policy cached."""

    _site: tuple[Any, Any, str, str] | None = None

    def _site_policies(self) -> tuple[str, str]:
        """The header and report-only header of the settings' policies alone."""
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", None)
        report_only = getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
        cached = self._site
        # The settings objects themselves are the key (override_settings swaps them).
        if cached is None or cached[0] is not policy or cached[1] is not report_only:
            cached = (policy, report_only, build_policy(), build_policy(report_only=True))
            self._site = cached
        return cached[2], cached[3]

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if (
            getattr(request, "_csp_nonce", None) is not None
            or any(getattr(response, name, None) is not None for name in _PER_RESPONSE)
            or (settings.DEBUG and response.status_code in _DEBUG_EXEMPT)
        ):
            return super().process_response(request, response)
        header, header_report_only = self._site_policies()
        for name, value, exempt, setting in (
            (HEADER, header, "_csp_exempt", "CONTENT_SECURITY_POLICY"),
            (
                HEADER_REPORT_ONLY,
                header_report_only,
                "_csp_exempt_ro",
                "CONTENT_SECURITY_POLICY_REPORT_ONLY",
            ),
        ):
            if not value or name in response or getattr(response, exempt, False):
                continue
            prefixes = (getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES") or ()
            if not request.path_info.startswith(tuple(prefixes)):
                response[name] = value
        # As django-csp: a nonce asked for after the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response
