"""Moderation reads."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet, Sum
from django.utils import timezone

from moderation.models import ModerationDecision, PolicyVersion, PromptLog, Stage, Strike
from moderation.policy import policy_compiled


def policy_version_list() -> QuerySet[PolicyVersion]:
    """Every published version, newest first (the document is deferred)."""
    return PolicyVersion.objects.order_by("-number").defer("document")


def policy_version_get(*, number: int) -> PolicyVersion | None:
    return PolicyVersion.objects.filter(number=number).first()


def decision_get(*, decision_id: Any) -> ModerationDecision | None:
    return (
        ModerationDecision.objects.select_related("policy_version", "prompt_log", "user")
        .filter(pk=decision_id)
        .first()
    )


def decisions_for_subject(*, subject_type: str, subject_id: str) -> QuerySet[ModerationDecision]:
    return ModerationDecision.objects.filter(
        subject_type=subject_type, subject_id=str(subject_id)
    ).order_by("created_at")


def decisions_for_user(*, user: Any, stage: Stage | None = None) -> QuerySet[ModerationDecision]:
    decisions = ModerationDecision.objects.filter(user=user).select_related("policy_version")
    return decisions.filter(stage=stage) if stage else decisions


def prompt_log_for_user(*, user: Any) -> QuerySet[PromptLog]:
    return PromptLog.objects.filter(user_id=user.pk)


def strikes_for_user(*, user: Any, active_only: bool = False) -> QuerySet[Strike]:
    strikes = Strike.objects.filter(user=user)
    return strikes.filter(revoked_at__isnull=True) if active_only else strikes


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
    window_days = policy_compiled().policy.strikes.window_days
    return strike_weight_active(user=user, window_days=window_days)


def strike_window_start() -> datetime:
    """Where the current policy's strike window starts: strikes created since count."""
    window_days = policy_compiled().policy.strikes.window_days
    return timezone.now() - timedelta(days=window_days)


def generation_requests_per_minute(
    *, user: Any, plan_limit: int, strike_weight: int | None = None
) -> int:
    """The plan's per-minute generation limit, tightened while the account has active
    strikes (SPEC §3): at most ``GENERATION_RATE_PER_MINUTE_WITH_STRIKES``.

    ``strike_weight``: the active weight when the caller has read it already (the
    submit reads it with its other facts, ``generation.selectors.submit_facts``)."""
    if strike_weight is None:
        window_days = policy_compiled().policy.strikes.window_days
        strike_weight = strike_weight_active(user=user, window_days=window_days)
    if strike_weight <= 0:
        return plan_limit
    return max(1, min(plan_limit, int(settings.GENERATION_RATE_PER_MINUTE_WITH_STRIKES)))
