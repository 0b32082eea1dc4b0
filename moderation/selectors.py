"""Moderation reads."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from moderation.models import Strike


def strike_weight_active(*, user: Any, window_days: int) -> int:
    """The weight of a user's unrevoked strikes within the window."""
    since = timezone.now() - timedelta(days=window_days)
    total = Strike.objects.filter(
        user=user, revoked_at__isnull=True, created_at__gte=since
    ).aggregate(total=Sum("severity"))["total"]
    return int(total or 0)


def user_strike_count(*, user: Any) -> int:
    """The weight of the user's active strikes, shown in ``GET /api/v1/me``: unrevoked
    strikes inside the current policy's window, the number the cool-down and
    suspension thresholds compare with (SPEC §3)."""
    from moderation.policy import policy_compiled

    window_days = policy_compiled().policy.strikes.window_days
    return strike_weight_active(user=user, window_days=window_days)


def generation_requests_per_minute(*, user: Any, plan_limit: int) -> int:
    """The plan's per-minute generation limit, tightened while the account has active
    strikes (SPEC §3): at most ``GENERATION_RATE_PER_MINUTE_WITH_STRIKES``."""
    from moderation.policy import policy_compiled

    window_days = policy_compiled().policy.strikes.window_days
    if strike_weight_active(user=user, window_days=window_days) <= 0:
        return plan_limit
    return max(1, min(plan_limit, int(settings.GENERATION_RATE_PER_MINUTE_WITH_STRIKES)))
