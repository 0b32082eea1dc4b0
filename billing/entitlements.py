"""One service computes what a user may do; every gate and page uses it (SPEC §4)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone

from billing.models import (
    BillingReviewFlag,
    PlanKind,
    Subscription,
    SubscriptionStatus,
)

LIVE_STATUSES = (
    SubscriptionStatus.ACTIVE,
    SubscriptionStatus.TRIALING,
    SubscriptionStatus.PAST_DUE,
)


@dataclass(frozen=True)
class Entitlements:
    plan_code: str | None
    status: str | None
    is_active: bool
    current_period_end: dt.datetime | None
    max_side: int
    max_steps: int
    max_images: int
    features: frozenset[str]
    plan_rank: int
    requests_per_minute: int
    queue_priority: int
    is_frozen: bool = False
    cancel_at_period_end: bool = False
    grace_until: dt.datetime | None = None


NO_PLAN = Entitlements(
    plan_code=None,
    status=None,
    is_active=False,
    current_period_end=None,
    max_side=0,
    max_steps=0,
    max_images=0,
    features=frozenset(),
    plan_rank=0,
    requests_per_minute=0,
    queue_priority=9,
)


def past_due_grace_until(subscription: Subscription) -> dt.datetime | None:
    if subscription.status != SubscriptionStatus.PAST_DUE or subscription.past_due_since is None:
        return None
    return subscription.past_due_since + dt.timedelta(days=settings.BILLING_PAST_DUE_GRACE_DAYS)


def current_subscription(*, user: Any) -> Subscription | None:
    """The subscription that decides the plan: the best live one, else the latest."""
    if not getattr(user, "is_authenticated", False):
        return None
    subscriptions = list(
        Subscription.objects.filter(user=user, plan__kind=PlanKind.SUBSCRIPTION).select_related(
            "plan"
        )
    )
    live = [s for s in subscriptions if s.status in LIVE_STATUSES]
    if live:
        return max(
            live,
            key=lambda s: (
                s.status != SubscriptionStatus.PAST_DUE,
                s.plan.plan_rank if s.plan else 0,
                s.last_event_created,
            ),
        )
    return max(subscriptions, key=lambda s: s.last_event_created, default=None)


def entitlements_for(*, user: Any, has_open_review_flag: bool | None = None) -> Entitlements:
    """The user's plan, status and limits.

    Active means ``active`` or ``trialing``, or ``past_due`` for at most
    ``BILLING_PAST_DUE_GRACE_DAYS`` since the unpaid period began, and no open payment
    dispute on the account. Limits are the plan's whenever the user has one, so pages
    can show them; gates look at ``is_active`` first. ``has_open_review_flag``: whether
    the user has an unresolved billing review flag, when this request has read it already.
    """
    subscription = current_subscription(user=user)
    if subscription is None or subscription.plan is None:
        return NO_PLAN
    plan = subscription.plan
    if has_open_review_flag is None:
        has_open_review_flag = (
            not subscription.frozen_by_dispute
            and BillingReviewFlag.objects.filter(user=user, resolved_at__isnull=True).exists()
        )
    is_frozen = subscription.frozen_by_dispute or has_open_review_flag
    grace_until = past_due_grace_until(subscription)
    now = timezone.now()
    if subscription.status in (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING):
        in_good_standing = True
    elif subscription.status == SubscriptionStatus.PAST_DUE:
        in_good_standing = grace_until is not None and now < grace_until
    else:
        in_good_standing = False
    return Entitlements(
        plan_code=plan.code,
        status=subscription.status,
        is_active=in_good_standing and not is_frozen,
        current_period_end=subscription.current_period_end,
        max_side=plan.max_side,
        max_steps=plan.max_steps,
        max_images=plan.max_images,
        features=frozenset(str(f) for f in plan.features or []),
        plan_rank=plan.plan_rank,
        requests_per_minute=plan.requests_per_minute,
        queue_priority=plan.queue_priority,
        is_frozen=is_frozen,
        cancel_at_period_end=subscription.cancel_at_period_end,
        grace_until=grace_until,
    )
