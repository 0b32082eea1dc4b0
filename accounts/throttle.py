"""Login throttling that protects without a site-wide lockout (docs/security.md).

allauth counts failed logins per account (``key``) and per client IP (``ip``) in
``ACCOUNT_RATE_LIMITS["login_failed"]``. It checks the rates in the order given and
stops at the first that refuses, so the per-account rate comes first: attempts on an
account that is already locked no longer count against its IP, and one attacker
hammering one address cannot lock everybody else behind the same IP (a NAT, an
office, a proxy). The client IP is read through ``ALLAUTH_TRUSTED_PROXY_COUNT``.

A refused login answers 429 with ``Retry-After`` and allauth's message in the form.
"""

from __future__ import annotations

from typing import Any

from allauth.account.views import LoginView
from django.conf import settings
from django.http import HttpResponse

TOO_MANY_LOGIN_ATTEMPTS = "too_many_login_attempts"


def login_retry_after_seconds() -> int:
    """The longest window of the failed-login rates: when every bucket has drained."""
    from allauth.core.internal.ratelimit import parse_rates

    rates = parse_rates(settings.ACCOUNT_RATE_LIMITS.get("login_failed"))
    return int(max((rate.duration for rate in rates), default=60))


class ThrottledLoginView(LoginView):
    """allauth's login page; a throttled attempt is a 429, not a 200 with an error."""

    def form_invalid(self, form: Any) -> HttpResponse:
        response = super().form_invalid(form)
        refusals = form.errors.as_data().get("__all__", [])
        if any(error.code == TOO_MANY_LOGIN_ATTEMPTS for error in refusals):
            response.status_code = 429
            response["Retry-After"] = str(login_retry_after_seconds())
        return response
