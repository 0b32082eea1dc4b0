from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from accounts.roles import user_can_review, user_is_billing_admin


def site(request: HttpRequest) -> dict[str, Any]:
    """Navigation facts for the base template."""
    # Error pages render before AuthenticationMiddleware when the Host header is bad.
    user = getattr(request, "user", None)
    return {
        "is_moderator": user_can_review(user),
        "is_billing_admin": user_is_billing_admin(user),
        "stripe_offline": settings.STRIPE_OFFLINE,
    }
