"""Who may do what in accountability and the console (SPEC §1)."""

from __future__ import annotations

from typing import Any

MODERATOR_GROUPS = ("moderators", "senior_moderators")
SENIOR_GROUPS = ("senior_moderators",)


def _groups(user: Any) -> set[str]:
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    cached = getattr(user, "_imagegate_group_names", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        user._imagegate_group_names = cached
    return cached


def is_moderator(user: Any) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(user.is_superuser or _groups(user) & set(MODERATOR_GROUPS))


def is_senior_moderator(user: Any) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(user.is_superuser or _groups(user) & set(SENIOR_GROUPS))
