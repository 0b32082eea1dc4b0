"""One service computes what a user may do; every gate and page uses it (SPEC §4)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection
from django.utils import timezone

from billing.models import (
    BillingReviewFlag,
    Plan,
    PlanKind,
    Subscription,
    SubscriptionStatus,
)

_S = TypeVar("_S", bound=Any)

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


def past_due_grace_until(subscription: Any) -> dt.datetime | None:
    """When a past-due ``subscription`` (a ``Subscription`` or ``SubscriptionTerms``)
    stops generating; None unless it is past due."""
    if subscription.status != SubscriptionStatus.PAST_DUE or subscription.past_due_since is None:
        return None
    return subscription.past_due_since + dt.timedelta(days=settings.BILLING_PAST_DUE_GRACE_DAYS)


@dataclass(frozen=True)
class SubscriptionTerms:
    """What the entitlements need of one subscription and its plan: a plain row, read
    without building the two model instances (it runs on every submit)."""

    status: str
    past_due_since: dt.datetime | None
    frozen_by_dispute: bool
    cancel_at_period_end: bool
    current_period_end: dt.datetime | None
    last_event_created: int
    plan_code: str
    max_side: int
    max_steps: int
    max_images: int
    features: tuple[str, ...]
    plan_rank: int
    requests_per_minute: int
    queue_priority: int


# The columns of a ``SubscriptionTerms``, in its order: (model, field) of the
# subscription (s) or its plan (p).
_TERMS_COLUMNS = (
    ("s", Subscription, "status"),
    ("s", Subscription, "past_due_since"),
    ("s", Subscription, "frozen_by_dispute"),
    ("s", Subscription, "cancel_at_period_end"),
    ("s", Subscription, "current_period_end"),
    ("s", Subscription, "last_event_created"),
    ("p", Plan, "code"),
    ("p", Plan, "max_side"),
    ("p", Plan, "max_steps"),
    ("p", Plan, "max_images"),
    ("p", Plan, "features"),
    ("p", Plan, "plan_rank"),
    ("p", Plan, "requests_per_minute"),
    ("p", Plan, "queue_priority"),
)


def subscription_terms_sql(*, user_id_sql: str) -> tuple[str, list[Any]] | None:
    """A scalar subquery (and its parameters): the JSON array of the subscription terms
    of the user whose id is the SQL expression ``user_id_sql``, NULL without any; for a
    caller that reads the entitlements' facts with its own statement (``generation.
    selectors.submit_facts``), which reads the value back with
    ``subscription_terms_from_json``. None off PostgreSQL (read ``subscription_terms``).
    """
    if connection.vendor != "postgresql":
        return None

    def column(model: Any, field: str) -> str:
        return str(model._meta.get_field(field).column)

    values = ", ".join(f"{alias}.{column(model, field)}" for alias, model, field in _TERMS_COLUMNS)
    sql = (
        f"(SELECT json_agg(json_build_array({values})) "  # noqa: S608
        f"FROM {Subscription._meta.db_table} s "
        f"JOIN {Plan._meta.db_table} p "
        f"ON p.{column(Plan, 'id')} = s.{column(Subscription, 'plan')} "
        f"WHERE s.{column(Subscription, 'user')} = {user_id_sql} "
        f"AND p.{column(Plan, 'kind')} = %s)"
    )
    return sql, [PlanKind.SUBSCRIPTION.value]


def _as_datetime(value: Any) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(value)


def _terms(row: Sequence[Any]) -> SubscriptionTerms:
    return SubscriptionTerms(
        status=row[0],
        past_due_since=_as_datetime(row[1]),
        frozen_by_dispute=bool(row[2]),
        cancel_at_period_end=bool(row[3]),
        current_period_end=_as_datetime(row[4]),
        last_event_created=int(row[5]),
        plan_code=row[6],
        max_side=int(row[7]),
        max_steps=int(row[8]),
        max_images=int(row[9]),
        features=tuple(str(f) for f in row[10] or []),
        plan_rank=int(row[11]),
        requests_per_minute=int(row[12]),
        queue_priority=int(row[13]),
    )


def subscription_terms_from_json(value: Any) -> tuple[SubscriptionTerms, ...]:
    """The rows of ``subscription_terms_sql``'s value (JSON text, or already decoded)."""
    if value is None:
        return ()
    rows = json.loads(value) if isinstance(value, str | bytes) else value
    return tuple(_terms(row) for row in rows)


def subscription_terms(*, user: Any) -> tuple[SubscriptionTerms, ...]:
    """The terms of each of the user's plan subscriptions, in one statement."""
    user_id = Subscription._meta.get_field("user").get_db_prep_value(user.pk, connection)
    subquery = subscription_terms_sql(user_id_sql="%s")
    if subquery is None:
        rows = Subscription.objects.filter(
            user_id=user.pk, plan__kind=PlanKind.SUBSCRIPTION
        ).values_list(*(f"plan__{f}" if a == "p" else f for a, _m, f in _TERMS_COLUMNS))
        return tuple(_terms(row) for row in rows)
    sql, params = subquery
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {sql}", [user_id, *params])
        row = cursor.fetchone()
    return subscription_terms_from_json(row[0] if row else None)


def _deciding(subscriptions: Sequence[_S], *, plan_rank: Callable[[_S], int]) -> _S | None:
    """The subscription that decides the plan: the best live one (not past due before
    past due, then the higher plan, then the newer), else the newest."""
    live = [s for s in subscriptions if s.status in LIVE_STATUSES]
    if live:
        return max(
            live,
            key=lambda s: (
                s.status != SubscriptionStatus.PAST_DUE,
                plan_rank(s),
                s.last_event_created,
            ),
        )
    return max(subscriptions, key=lambda s: s.last_event_created, default=None)


def current_subscription(*, user: Any) -> Subscription | None:
    """The subscription that decides the plan: the best live one, else the latest."""
    if not getattr(user, "is_authenticated", False):
        return None
    subscriptions = list(
        Subscription.objects.filter(user=user, plan__kind=PlanKind.SUBSCRIPTION).select_related(
            "plan"
        )
    )
    return _deciding(subscriptions, plan_rank=lambda s: s.plan.plan_rank if s.plan else 0)


def entitlements_for(*, user: Any, has_open_review_flag: bool | None = None) -> Entitlements:
    """The user's plan, status and limits.

    Active means ``active`` or ``trialing``, or ``past_due`` for at most
    ``BILLING_PAST_DUE_GRACE_DAYS`` since the unpaid period began, and no open payment
    dispute on the account. Limits are the plan's whenever the user has one, so pages
    can show them; gates look at ``is_active`` first. ``has_open_review_flag``: whether
    the user has an unresolved billing review flag, when this request has read it already.
    """
    if not getattr(user, "is_authenticated", False):
        return NO_PLAN
    return entitlements_from(
        user=user,
        subscriptions=subscription_terms(user=user),
        has_open_review_flag=has_open_review_flag,
    )


def entitlements_from(
    *,
    user: Any,
    subscriptions: Sequence[SubscriptionTerms],
    has_open_review_flag: bool | None = None,
) -> Entitlements:
    """``entitlements_for`` from terms already read (``subscription_terms_sql``)."""
    subscription = _deciding(subscriptions, plan_rank=lambda s: s.plan_rank)
    if subscription is None:
        return NO_PLAN
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
        plan_code=subscription.plan_code,
        status=subscription.status,
        is_active=in_good_standing and not is_frozen,
        current_period_end=subscription.current_period_end,
        max_side=subscription.max_side,
        max_steps=subscription.max_steps,
        max_images=subscription.max_images,
        features=frozenset(subscription.features),
        plan_rank=subscription.plan_rank,
        requests_per_minute=subscription.requests_per_minute,
        queue_priority=subscription.queue_priority,
        is_frozen=is_frozen,
        cancel_at_period_end=subscription.cancel_at_period_end,
        grace_until=grace_until,
    )
