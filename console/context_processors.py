from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from accounts.roles import user_is_senior_moderator


def roles(request: HttpRequest) -> dict[str, Any]:
    """Whether the console should show senior-only links (the views check it again)."""
    if not request.path.startswith("/moderation/") or not hasattr(request, "user"):
        return {}
    return {"is_senior_moderator": user_is_senior_moderator(request.user)}
