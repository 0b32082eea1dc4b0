"""Mandatory MFA for staff on the staff areas (SPEC §1)."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from accounts.permissions import mfa_refusal, staff_needs_mfa

DEFAULT_PROTECTED_PREFIXES = ("/moderation/", "/admin/", "/api/v1/moderation/")


class StaffMfaMiddleware:
    """A staff member without an enrolled TOTP authenticator never reaches the console,
    Django admin or staff API: pages redirect to enrolment, the API answers 403."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.prefixes = tuple(
            getattr(settings, "STAFF_MFA_PROTECTED_PREFIXES", DEFAULT_PROTECTED_PREFIXES)
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(self.prefixes) and staff_needs_mfa(request.user):
            return mfa_refusal(request)
        return self.get_response(request)
