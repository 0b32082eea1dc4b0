"""Console access (SPEC §1): moderators, senior moderators and superusers only.

Anonymous visitors are sent to log in; signed-in users who are not moderators get a
plain 404, so the console does not exist for them; a moderator on a senior page gets
403. Staff without TOTP are sent to enrol first (accounts' rule).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

from accounts.permissions import mfa_refusal, staff_needs_mfa
from accounts.roles import user_can_review, user_is_senior_moderator


def _mfa_refusal(request: HttpRequest) -> HttpResponse | None:
    return mfa_refusal(request) if staff_needs_mfa(request.user) else None


View = Callable[..., HttpResponseBase]


def _guard(senior: bool) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user_can_review(request.user):
                raise Http404
            refusal = _mfa_refusal(request)
            if refusal is not None:
                return refusal
            if senior and not user_is_senior_moderator(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


moderator_required = _guard(senior=False)
senior_required = _guard(senior=True)
