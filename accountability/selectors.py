"""Reads for accountability: a user's statements, and the public transparency figures."""

from __future__ import annotations

import datetime as dt
import statistics
import uuid
from typing import Any

from django.db.models import Count, QuerySet
from django.utils import timezone

from accountability.models import (
    Appeal,
    AppealStatus,
    AutomatedDecision,
    ReviewItem,
    ReviewStatus,
    StatementOfReasons,
)
from core.errors import ApplicationError, ErrorCode
from generation.models import GenerationJob
from moderation.models import ModerationDecision


def _as_uuid(value: Any) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def statement_list_for_user(*, user: Any) -> QuerySet[StatementOfReasons]:
    return (
        StatementOfReasons.objects.filter(user=user)
        .select_related("appeal")
        .order_by("-created_at")
    )


def statement_get_for_user(*, user: Any, statement_id: Any) -> StatementOfReasons:
    """One's own statement; a foreign one is not found, exactly like a missing one."""
    statement_uuid = _as_uuid(statement_id)
    statement = (
        statement_list_for_user(user=user).filter(pk=statement_uuid).first()
        if statement_uuid and getattr(user, "is_authenticated", False)
        else None
    )
    if statement is None:
        raise ApplicationError(ErrorCode.NOT_FOUND)
    return statement


def appeal_of(statement: StatementOfReasons) -> Appeal | None:
    try:
        return statement.appeal
    except Appeal.DoesNotExist:
        return None


def transparency_report(*, days: int = 365) -> dict[str, Any]:
    """Aggregates for the public page: no user, no content, only counts and times."""
    since = timezone.now() - dt.timedelta(days=days)
    statements = StatementOfReasons.objects.filter(created_at__gte=since)
    by_category = list(
        statements.values("category").annotate(count=Count("id")).order_by("-count", "category")
    )
    by_automation = {
        row["automated_decision"]: row["count"]
        for row in statements.values("automated_decision").annotate(count=Count("id"))
    }
    appeals = Appeal.objects.filter(created_at__gte=since)
    appeal_outcomes = {
        row["outcome"] or "pending": row["count"]
        for row in appeals.values("outcome").annotate(count=Count("id"))
    }
    decided = ReviewItem.objects.filter(
        status=ReviewStatus.DECIDED, decided_at__gte=since
    ).values_list("created_at", "decided_at")
    handling = [
        (decided_at - created_at).total_seconds() / 3600
        for created_at, decided_at in decided
        if decided_at is not None
    ]
    return {
        "days": days,
        "since": since,
        "total_statements": statements.count(),
        "by_category": by_category,
        "automated": by_automation.get(AutomatedDecision.FULLY, 0),
        "partially_automated": by_automation.get(AutomatedDecision.PARTIALLY, 0),
        "human": by_automation.get(AutomatedDecision.NOT_AUTOMATED, 0),
        "appeals_total": appeals.count(),
        "appeals_open": appeals.filter(status=AppealStatus.OPEN).count(),
        "appeal_outcomes": appeal_outcomes,
        "human_reviews": len(handling),
        "median_handling_hours": round(statistics.median(handling), 1) if handling else None,
    }


def _subject_uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def appealed_content(statement: Any) -> dict[str, Any]:
    """What the appealed statement was about, so the senior moderator rules on the
    content itself: the prompt, the matched words, and any images of the job."""
    content: dict[str, Any] = {"prompt": "", "negative_prompt": "", "image_ids": [], "job": None}
    job = None
    subject_id = _subject_uuid(statement.subject_id)
    if statement.subject_type.startswith("generation.job") and subject_id:
        job = GenerationJob.objects.filter(pk=subject_id).first()
    decision = ModerationDecision.objects.filter(statement_id=statement.pk).first()
    if decision is None and statement.subject_type == "moderation.decision" and subject_id:
        decision = ModerationDecision.objects.filter(pk=subject_id).first()
    if job is None and decision is not None:
        decision_subject = _subject_uuid(decision.subject_id)
        if str(decision.subject_type).startswith("generation.job") and decision_subject:
            job = GenerationJob.objects.filter(pk=decision_subject).first()
    if job is not None:
        content["job"] = job
        content["prompt"] = job.prompt
        content["negative_prompt"] = job.negative_prompt
        content["image_ids"] = [
            str(pk) for pk in job.images.filter(purged_at__isnull=True).values_list("pk", flat=True)
        ]
    if decision is not None:
        prompt_log = getattr(decision, "prompt_log", None)
        if not content["prompt"] and prompt_log is not None:
            content["prompt"] = prompt_log.prompt
            content["negative_prompt"] = prompt_log.negative_prompt
        content["matched_text"] = decision.matched_text
        content["layer"] = decision.get_layer_display() if decision.layer else ""
    return content
