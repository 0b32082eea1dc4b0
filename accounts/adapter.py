"""allauth adapter: stores the sign-up profile on the new user in the same save."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import HttpRequest

from accounts.forms import SignupForm


class AccountAdapter(DefaultAccountAdapter):
    def get_client_ip(self, request: HttpRequest) -> str:
        """allauth's client IP (``ALLAUTH_TRUSTED_PROXY_COUNT``); a forwarded-for chain
        shorter than the configured proxies is a client's doing, not a server error."""
        try:
            return str(super().get_client_ip(request))
        except (ImproperlyConfigured, PermissionDenied):
            return str(request.META.get("REMOTE_ADDR") or "0.0.0.0")  # noqa: S104

    def save_user(self, request: HttpRequest, user: Any, form: Any, commit: bool = True) -> Any:
        user = super().save_user(request, user, form, commit=False)
        if isinstance(form, SignupForm):
            for field, value in form.signup_profile().items():
                setattr(user, field, value)
        if commit:
            user.save()
        return user
