from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, Any]:
    """Navigation facts for the base template."""
    # Error pages render before AuthenticationMiddleware when the Host header is bad.
    user = getattr(request, "user", None)
    if user is None:
        return {"is_moderator": False, "is_billing_admin": False, "stripe_offline": False}
    groups: set[str] = set()
    if user.is_authenticated:
        groups = set(user.groups.values_list("name", flat=True))
    return {
        "is_moderator": bool(
            user.is_authenticated
            and (user.is_superuser or groups & {"moderators", "senior_moderators"})
        ),
        "is_billing_admin": bool(
            user.is_authenticated and (user.is_superuser or "billing_admins" in groups)
        ),
        "stripe_offline": settings.STRIPE_OFFLINE,
    }
