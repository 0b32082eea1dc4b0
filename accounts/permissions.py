"""Permissions: API key scopes, and mandatory MFA for staff.

Scopes (docs/architecture.md): ``read`` (GET anything of one's own), ``generate``,
``report``. A view lists what it needs in ``required_scopes``; without it, safe methods
need ``read`` and anything else is refused to API keys (fail closed). Session-
authenticated requests have every scope.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from rest_framework import permissions
from rest_framework.request import Request

from accounts.models import ApiKey
from accounts.roles import user_holds_staff_permission
from accounts.selectors import user_has_totp
from core.api import json_error
from core.errors import ErrorCode

MFA_REQUIRED_MESSAGE = "Staff accounts must enrol in two-factor authentication (TOTP) first."


def required_scopes_for(*, view: Any, method: str) -> list[str] | None:
    """The scopes a view needs for this method; None means: not available to API keys."""
    scopes = getattr(view, "required_scopes", None)
    if isinstance(scopes, dict):
        scopes = scopes.get(method.upper(), scopes.get("*"))
    if scopes is None:
        return ["read"] if method.upper() in permissions.SAFE_METHODS else None
    return list(scopes)


class HasScope(permissions.BasePermission):
    """An API key must carry every scope in the view's ``required_scopes``.

    ``required_scopes`` is a list, or a dict of method → list (``"*"`` for the rest).
    """

    message = "This API key lacks the scope needed here."

    def has_permission(self, request: Request, view: Any) -> bool:
        api_key = request.auth
        if not isinstance(api_key, ApiKey):
            return True
        needed = required_scopes_for(view=view, method=request.method or "GET")
        if needed is None:
            self.message = "This endpoint is not available to API keys; sign in instead."
            return False
        return set(needed) <= set(api_key.scopes or [])


class SessionOnly(permissions.BasePermission):
    """Refuses API-key requests (e.g. creating API keys)."""

    message = "Use the signed-in session for this, not an API key."

    def has_permission(self, request: Request, view: Any) -> bool:
        return not isinstance(request.auth, ApiKey)


def staff_needs_mfa(user: Any) -> bool:
    """True for anyone holding a staff permission (or a superuser) without a TOTP device."""
    return user_holds_staff_permission(user) and not user_has_totp(user=user)


def mfa_refusal(request: HttpRequest) -> HttpResponse:
    """Pages redirect to TOTP enrolment; API requests answer 403 ``permission_denied``."""
    if request.path.startswith("/api/"):
        return json_error(request, ErrorCode.PERMISSION_DENIED, MFA_REQUIRED_MESSAGE)
    from django.contrib import messages

    messages.warning(request, MFA_REQUIRED_MESSAGE)
    return HttpResponseRedirect(reverse("mfa_activate_totp"))


def staff_mfa_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Decorator for staff pages: a staff member without TOTP is sent to enrol first.

    It does not check group membership itself: combine with the page's own check.
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if staff_needs_mfa(request.user):
            return mfa_refusal(request)
        return view(request, *args, **kwargs)

    return wrapped
