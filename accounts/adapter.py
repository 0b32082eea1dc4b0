"""allauth adapter: stores the sign-up profile on the new user in the same save."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest

from accounts.forms import SignupForm


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request: HttpRequest, user: Any, form: Any, commit: bool = True) -> Any:
        user = super().save_user(request, user, form, commit=False)
        if isinstance(form, SignupForm):
            for field, value in form.signup_profile().items():
                setattr(user, field, value)
        if commit:
            user.save()
        return user
