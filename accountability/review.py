"""The human review queue (SPEC §8): opening and claiming items (deciding: decisions.py)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accountability.models import (
    ReviewItem,
    ReviewKind,
    ReviewStatus,
)
from accounts.roles import user_can_review, user_is_senior_moderator
from core.errors import ApplicationError, ErrorCode

logger = logging.getLogger(__name__)

JOB_SUBJECT_TYPES = {"generation.job", "generation.generationjob"}
IMAGE_SUBJECT_TYPES = {"generation.image", "generation.generatedimage"}

# Severity (1 low … 5 critical) → priority band and its SLA.
PRIORITY_FOR_SEVERITY = {1: 1, 2: 1, 3: 2, 4: 3, 5: 4}
PRIORITY_LABELS = {1: "low", 2: "normal", 3: "high", 4: "critical"}
SLA_FOR_PRIORITY = {
    1: dt.timedelta(hours=72),
    2: dt.timedelta(hours=24),
    3: dt.timedelta(hours=4),
    4: dt.timedelta(hours=1),
}


# --- opening -----------------------------------------------------------------------


# Held prompts and images in these categories are decided by senior moderators only
# (SPEC §1: CSAM escalations); confirming one locks the account (accountability.decisions).
# Reports are not: their category is the reporter's claim, not a finding.
SENIOR_CATEGORIES = frozenset({"sexual_minors"})
SENIOR_KINDS = frozenset({ReviewKind.PROMPT, ReviewKind.OUTPUT})


def _for_seniors(kind: str, category: str) -> bool:
    return kind in SENIOR_KINDS and category in SENIOR_CATEGORIES


def _priority_for(severity: int) -> int:
    return PRIORITY_FOR_SEVERITY[min(max(int(severity), 1), 5)]


def review_item_open(
    *,
    kind: str,
    subject_type: str,
    subject_id: str,
    user: Any,
    category: str,
    severity: int,
    context: dict[str, Any] | None = None,
    requires_senior: bool = False,
    excluded_moderator: Any | None = None,
) -> ReviewItem:
    """Queue a subject for human review; at most one pending item per subject and kind.

    Opening an item that is already pending returns it (with the higher severity and
    the merged context), so a retried caller never queues the same thing twice. An
    held prompt or image in a ``SENIOR_CATEGORIES`` category is for senior moderators only.
    ``context``, ``requires_senior`` and ``excluded_moderator`` extend the contract and
    are optional.
    """
    kind = ReviewKind(kind).value
    severity = min(max(int(severity or 1), 1), 5)
    priority = _priority_for(severity)
    now = timezone.now()
    pending = Q(kind=kind, subject_type=subject_type, subject_id=str(subject_id)) & ~Q(
        status=ReviewStatus.DECIDED
    )
    try:
        with transaction.atomic():
            item = ReviewItem.objects.create(
                kind=kind,
                subject_type=subject_type,
                subject_id=str(subject_id),
                user=user,
                category=category or "",
                severity=severity,
                priority=priority,
                due_at=now + SLA_FOR_PRIORITY[priority],
                requires_senior=requires_senior
                or kind == ReviewKind.APPEAL
                or _for_seniors(kind, category),
                context=dict(context or {}),
                excluded_moderator_id=getattr(excluded_moderator, "pk", None),
                created_at=now,
            )
    except IntegrityError:
        with transaction.atomic():
            item = ReviewItem.objects.select_for_update().get(pending)
            if severity > item.severity:
                item.severity = severity
                item.priority = priority
                item.due_at = min(item.due_at, item.created_at + SLA_FOR_PRIORITY[priority])
            item.context = {**item.context, **(context or {})}
            fields = ["severity", "priority", "due_at", "context"]
            if _for_seniors(kind, category) and item.category != category:
                # A later check found worse (a deep check after a rules hold).
                item.category = category
                item.requires_senior = True
                fields += ["category", "requires_senior"]
            item.save(update_fields=fields)
    return item


# --- claiming ------------------------------------------------------------------------


def _claim_ttl() -> dt.timedelta:
    return dt.timedelta(minutes=settings.IMAGEGATE_REVIEW_CLAIM_MINUTES)


def _claimable(now: dt.datetime) -> Q:
    return Q(status=ReviewStatus.OPEN) | Q(status=ReviewStatus.CLAIMED, claim_expires_at__lt=now)


def review_items_for(*, moderator: Any) -> QuerySet[ReviewItem]:
    """Pending items this moderator may decide: never their own account's, appeals and
    escalations for seniors only, and never an appeal of their own decision."""
    items = ReviewItem.objects.exclude(status=ReviewStatus.DECIDED).exclude(user=moderator)
    if not user_is_senior_moderator(moderator):
        items = items.filter(requires_senior=False).exclude(kind=ReviewKind.APPEAL)
    return items.exclude(excluded_moderator_id=moderator.pk)


def review_claim_next(*, moderator: Any, kind: str | None = None) -> ReviewItem | None:
    """Claim the most urgent item; no item is ever handed to two moderators at once.

    A moderator who still holds an unexpired claim gets that item back. Otherwise the
    first claimable row is locked with ``SKIP LOCKED`` (PostgreSQL), so concurrent
    claimers pass over each other's rows, and the claim itself is a conditional update
    that only succeeds while the row is still claimable (which also covers SQLite).
    """
    if not user_can_review(moderator):
        raise ApplicationError(ErrorCode.NOT_FOUND)
    now = timezone.now()
    held = (
        ReviewItem.objects.filter(
            status=ReviewStatus.CLAIMED, claimed_by=moderator, claim_expires_at__gte=now
        )
        .order_by("due_at")
        .first()
    )
    if held is not None and (kind is None or held.kind == kind):
        return held
    for _attempt in range(5):
        with transaction.atomic():
            candidates = review_items_for(moderator=moderator).filter(_claimable(now))
            if kind:
                candidates = candidates.filter(kind=kind)
            if connection.features.has_select_for_update_skip_locked:
                candidates = candidates.select_for_update(skip_locked=True, of=("self",))
            item = candidates.order_by("due_at", "id").first()
            if item is None:
                return None
            claimed = (
                ReviewItem.objects.filter(pk=item.pk)
                .filter(_claimable(now))
                .update(
                    status=ReviewStatus.CLAIMED,
                    claimed_by=moderator,
                    claimed_at=now,
                    claim_expires_at=now + _claim_ttl(),
                )
            )
            if claimed:
                item.refresh_from_db()
                return item
    return None


def review_claim(*, item: ReviewItem, moderator: Any) -> ReviewItem:
    """Claim one given item (from a list); refused while another moderator holds it."""
    now = timezone.now()
    if not review_items_for(moderator=moderator).filter(pk=item.pk).exists():
        raise ApplicationError(ErrorCode.NOT_FOUND)
    with transaction.atomic():
        claimed = (
            ReviewItem.objects.filter(pk=item.pk)
            .filter(_claimable(now) | Q(status=ReviewStatus.CLAIMED, claimed_by=moderator))
            .update(
                status=ReviewStatus.CLAIMED,
                claimed_by=moderator,
                claimed_at=now,
                claim_expires_at=now + _claim_ttl(),
            )
        )
    if not claimed:
        raise ApplicationError(ErrorCode.CONFLICT, "Another moderator holds this item.")
    item.refresh_from_db()
    return item


def review_release(*, item: ReviewItem, moderator: Any) -> ReviewItem:
    """Give a claimed item back to the queue."""
    updated = ReviewItem.objects.filter(
        pk=item.pk, status=ReviewStatus.CLAIMED, claimed_by=moderator
    ).update(status=ReviewStatus.OPEN, claimed_by=None, claimed_at=None, claim_expires_at=None)
    if not updated:
        raise ApplicationError(ErrorCode.CONFLICT, "You do not hold this item.")
    item.refresh_from_db()
    return item
