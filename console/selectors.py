"""Reads for the console: item details, user history and timeline, dashboard figures.

The console sits above every app and reads their models directly; an item's stored
``ReviewItem.context`` is overlaid with what the job and its decision say now.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any

from django.db.models import Count, Min, QuerySet
from django.utils import timezone

from accountability.audit import actor_display
from accountability.models import (
    Appeal,
    AuditLogEntry,
    Report,
    ReportFiling,
    ReviewItem,
    ReviewKind,
    ReviewStatus,
    StatementOfReasons,
)
from accountability.review import PRIORITY_LABELS, review_items_for
from billing.entitlements import entitlements_for
from core import categories
from core.categories import category_label
from generation.models import GenerationJob
from moderation.models import ModerationDecision, Strike


def queue_for(*, moderator: Any, kind: str | None = None) -> QuerySet[ReviewItem]:
    items = review_items_for(moderator=moderator).select_related("user", "claimed_by")
    if kind:
        items = items.filter(kind=kind)
    return items.order_by("due_at", "id")


def item_details(item: ReviewItem) -> dict[str, Any]:
    """What the item view shows: the stored context, overlaid with the moderation
    decision's fields when ``moderation.models.ModerationDecision`` has them."""
    context = dict(item.context)
    details: dict[str, Any] = {
        "prompt": context.get("prompt", ""),
        "negative_prompt": context.get("negative_prompt", ""),
        "normalized_prompt": context.get("normalized_prompt", ""),
        "scores": context.get("scores", {}),
        "span": context.get("span"),
        "matched_text": context.get("matched_text", ""),
        "layer": context.get("layer", ""),
        "image_ids": list(context.get("image_ids", [])),
        "policy_version": context.get("policy_version"),
    }
    job = None
    job_id = item.subject_id if item.subject_type.startswith("generation.job") else None
    job_id = job_id or context.get("job_id")
    if job_id:
        job = GenerationJob.objects.filter(pk=job_id).first()
    if job is not None:
        details["prompt"] = details["prompt"] or job.prompt
        details["negative_prompt"] = details["negative_prompt"] or job.negative_prompt
        details["job"] = job
        if not details["image_ids"] and hasattr(job, "images"):
            details["image_ids"] = [str(pk) for pk in job.images.values_list("pk", flat=True)]
    decision_id = context.get("moderation_decision_id") or getattr(
        job, "moderation_decision_id", None
    )
    if decision_id:
        decision = ModerationDecision.objects.filter(pk=decision_id).first()
        if decision is not None:
            details["normalized_prompt"] = (
                getattr(decision, "normalized_prompt", "") or details["normalized_prompt"]
            )
            details["scores"] = getattr(decision, "scores", None) or details["scores"]
            details["span"] = getattr(decision, "span", None) or details["span"]
            details["matched_text"] = (
                getattr(decision, "matched_text", "") or details["matched_text"]
            )
            details["layer"] = getattr(decision, "layer", "") or details["layer"]
            details["policy_version"] = getattr(decision, "policy_version_id", None)
    span = details["span"]
    text = details["normalized_prompt"] or details["prompt"]
    if isinstance(span, list | tuple) and len(span) == 2 and text:
        start, end = int(span[0]), int(span[1])
        details["span_parts"] = (text[:start], text[start:end], text[end:])
    details["score_rows"] = _score_rows(details["scores"])
    details["filings"] = report_filings(context.get("report_id"))
    return details


def report_filings(report_id: Any) -> list[dict[str, Any]]:
    """What each reporter said (reason and note), oldest first, for the item view."""
    if not report_id:
        return []
    rows = ReportFiling.objects.filter(report_id=report_id).order_by("created_at")[:50]
    return [
        {"reason": row.get_reason_display(), "details": row.details, "created_at": row.created_at}
        for row in rows
    ]


def _format_score(value: Any, depth: int = 0) -> str:
    """A layer's recorded value as a moderator reads it, not as Python prints it."""
    if value is None or value == {} or value == []:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, dict):
        if depth >= 2:
            return "…"
        return "; ".join(f"{k}: {_format_score(v, depth + 1)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        if depth >= 2:
            return f"{len(value)} item(s)"
        return ", ".join(_format_score(item, depth + 1) for item in value[:10])
    return str(value)


def _score_rows(scores: Any) -> list[tuple[str, str, str]]:
    """Flatten ``{layer: {category: score}}`` (or ``{category: score}``) for a table."""
    rows: list[tuple[str, str, str]] = []
    if not isinstance(scores, dict):
        return rows
    for key, value in scores.items():
        if isinstance(value, dict) and value:
            rows.extend(
                (str(key), str(category), _format_score(score)) for category, score in value.items()
            )
        else:
            rows.append(("", str(key), _format_score(value)))
    return rows


def user_history(user: Any) -> dict[str, Any]:
    """Earlier decisions, strikes and the account state of the item's user."""
    if user is None:
        return {"user": None}
    strikes = list(Strike.objects.filter(user=user)[:20])
    return {
        "user": user,
        "statements": list(StatementOfReasons.objects.filter(user=user)[:20]),
        "decided_items": list(
            ReviewItem.objects.filter(user=user, status=ReviewStatus.DECIDED).order_by(
                "-decided_at"
            )[:20]
        ),
        "strikes": strikes,
        "active_strikes": sum(1 for strike in strikes if strike.revoked_at is None),
    }


def user_timeline(user: Any) -> list[dict[str, Any]]:
    """Generations, decisions, strikes, account changes and billing state, newest first.

    Billing shows plan and status only: never card data.
    """
    events: list[dict[str, Any]] = []
    for job in GenerationJob.objects.filter(user=user).order_by("-created_at")[:50]:
        events.append(
            {
                "at": job.created_at,
                "kind": "generation",
                "text": f"Generation {job.status}: {job.prompt[:80]}",
            }
        )
    for statement in StatementOfReasons.objects.filter(user=user)[:50]:
        events.append(
            {
                "at": statement.created_at,
                "kind": "statement",
                "text": f"{statement.decision} ({statement.category}): {statement.facts[:120]}",
            }
        )
    for item in ReviewItem.objects.filter(user=user, status=ReviewStatus.DECIDED)[:50]:
        events.append(
            {
                "at": item.decided_at or item.created_at,
                "kind": "review",
                "text": f"Review {item.kind} {item.decision} by {item.decided_by or 'unknown'}",
            }
        )
    for strike in Strike.objects.filter(user=user)[:50]:
        revoked = " (revoked)" if strike.revoked_at else ""
        events.append(
            {
                "at": strike.created_at,
                "kind": "strike",
                "text": f"Strike {strike.category} ×{strike.severity}{revoked}",
            }
        )
    for entry in AuditLogEntry.objects.filter(
        target_type="accounts.user", target_id=str(user.pk)
    ).order_by("-id")[:50]:
        events.append(
            {
                "at": entry.created_at,
                "kind": "account",
                "text": f"{entry.action} by {actor_display(entry.actor_label)}: "
                f"{entry.reason[:120]}",
            }
        )
    entitlements = entitlements_for(user=user)
    events.append(
        {
            "at": timezone.now(),
            "kind": "billing",
            "text": (
                f"Plan {entitlements.plan_code or 'none'}, status {entitlements.status or '—'}"
                f", active {entitlements.is_active}"
            ),
        }
    )
    events.sort(key=lambda event: event["at"], reverse=True)
    return events


def dashboard_metrics() -> dict[str, Any]:
    now = timezone.now()
    pending = ReviewItem.objects.exclude(status=ReviewStatus.DECIDED)
    by_priority = {
        row["priority"]: row["n"] for row in pending.values("priority").annotate(n=Count("id"))
    }
    by_category = {
        (row["category"] or "none"): row["n"]
        for row in pending.values("category").annotate(n=Count("id"))
    }
    oldest = pending.aggregate(oldest=Min("created_at"))["oldest"]
    day_ago = now - dt.timedelta(hours=24)
    hours = [
        (day_ago + dt.timedelta(hours=n + 1)).replace(minute=0, second=0, microsecond=0)
        for n in range(24)
    ]
    per_hour: Counter[str] = Counter()
    for decided_at in ReviewItem.objects.filter(
        status=ReviewStatus.DECIDED, decided_at__gte=day_ago
    ).values_list("decided_at", flat=True):
        if decided_at is None:
            continue
        per_hour[decided_at.replace(minute=0, second=0, microsecond=0).strftime("%H:00")] += 1
    return {
        # Most urgent first, in words: "critical" is 4, the highest priority.
        "queue_by_priority": {
            "labels": [PRIORITY_LABELS[p] for p in sorted(PRIORITY_LABELS, reverse=True)],
            "values": [by_priority.get(p, 0) for p in sorted(PRIORITY_LABELS, reverse=True)],
        },
        "queue_by_category": {
            "keys": list(by_category),  # as /metrics labels them
            "labels": [category_label(c) if c != "none" else "uncategorised" for c in by_category],
            "values": list(by_category.values()),
        },
        "pending_total": pending.count(),
        # Escalated items, appeals and held sexual content involving minors: an ordinary
        # moderator's queue leaves them out, so the dashboard says how many there are.
        "pending_senior": pending.filter(requires_senior=True).count(),
        "oldest_age_hours": round((now - oldest).total_seconds() / 3600, 1) if oldest else None,
        "sla_breaches": pending.filter(due_at__lt=now).count(),
        "decisions_per_hour": {
            "labels": [hour.strftime("%H:00") for hour in hours],
            "values": [per_hour.get(hour.strftime("%H:00"), 0) for hour in hours],
        },
        "block_rate": _block_rate(now),
        "score_distribution": _score_distribution(now),
        "appeal_outcomes": {
            (row["outcome"] or "pending"): row["n"]
            for row in Appeal.objects.values("outcome").annotate(n=Count("id"))
        },
        "open_reports": Report.objects.filter(status="open").count(),
        "open_appeals": pending.filter(kind=ReviewKind.APPEAL).count(),
    }


def _block_rate(now: dt.datetime) -> dict[str, Any]:
    """Share of moderation decisions that blocked, per category and day, over 30 days."""
    since = (now - dt.timedelta(days=29)).date()
    days = [since + dt.timedelta(days=n) for n in range(30)]
    totals: dict[dt.date, int] = defaultdict(int)
    blocks: dict[tuple[str, dt.date], int] = defaultdict(int)
    rows = ModerationDecision.objects.filter(created_at__date__gte=since).values_list(
        "created_at", "decision", "category"
    )
    for created_at, decision, category in rows.iterator(chunk_size=2000):
        day = created_at.date()
        totals[day] += 1
        if decision == "block":
            blocks[(category or "none", day)] += 1
    series = []
    for category in (c.key for c in categories.CATEGORIES):
        values = [
            round(100 * blocks[(category, day)] / totals[day], 2) if totals[day] else 0
            for day in days
        ]
        if any(values):
            series.append({"label": category_label(category), "values": values})
    return {"labels": [day.isoformat() for day in days], "series": series}


def _score_distribution(now: dt.datetime) -> dict[str, Any]:
    """Histogram (tenths) of the highest classifier score per decision, last 7 days."""
    bins = [0] * 10
    scores = ModerationDecision.objects.filter(
        created_at__gte=now - dt.timedelta(days=7)
    ).values_list("scores", flat=True)[:5000]
    for score_map in scores:
        top = _max_score(score_map)
        if top is not None:
            bins[min(int(top * 10), 9)] += 1
    return {"labels": [f"{n / 10:.1f}–{(n + 1) / 10:.1f}" for n in range(10)], "values": bins}


def _max_score(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value) if 0 <= value <= 1 else None
    if isinstance(value, dict):
        found = [score for score in map(_max_score, value.values()) if score is not None]
        return max(found) if found else None
    return None


def dashboard_tables(metrics: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each chart's numbers as a table (header row, body rows): what a screen reader
    reads, and what anyone reads when a chart is empty or too small to tell."""

    def pairs(chart: dict[str, Any], unit: str) -> dict[str, Any]:
        return {
            "head": ["", unit],
            "rows": list(zip(chart["labels"], chart["values"], strict=True)),
        }

    block_rate = metrics["block_rate"]
    days_with_data = [
        index
        for index in range(len(block_rate["labels"]))
        if any(series["values"][index] for series in block_rate["series"])
    ]
    return {
        "priority": pairs(metrics["queue_by_priority"], "items"),
        "category": pairs(metrics["queue_by_category"], "items"),
        "hourly": pairs(metrics["decisions_per_hour"], "decisions"),
        "scores": pairs(metrics["score_distribution"], "decisions"),
        "appeals": {
            "head": ["", "appeals"],
            "rows": [(outcome, n) for outcome, n in metrics["appeal_outcomes"].items()],
        },
        "block_rate": {
            "head": ["day", *(series["label"] for series in block_rate["series"])],
            "rows": [
                (
                    block_rate["labels"][index],
                    *(f"{series['values'][index]} %" for series in block_rate["series"]),
                )
                for index in days_with_data
            ],
        },
    }
