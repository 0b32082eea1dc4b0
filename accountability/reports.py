"""User reports of images (DSA Art. 16 notices): repeated reports of one image merge."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accountability.audit import audit_record
from accountability.models import Report, ReportFiling, ReportReason, ReportStatus, ReviewKind
from accountability.review import review_item_open
from core import categories
from core.errors import ApplicationError, ErrorCode
from generation.selectors import image_visible_to

REPORT_SEVERITY = {c.key: c.report_priority for c in categories.REPORTABLE} | {
    ReportReason.OTHER: 2
}


def report_file(
    *, reporter: Any, image_id: Any, reason: str, details: str = "", share_token: str = ""
) -> Report:
    """Report an image the reporter can see; one open report per image collects them.

    The image must be visible to the reporter (``generation.selectors.image_visible_to``,
    which answers 404 otherwise): their own, or one shared with them by a link. A
    reporter counts once per report.
    """
    if reason not in ReportReason.values:
        raise ApplicationError(
            ErrorCode.INVALID_REQUEST, details={"reason": ["Choose a reason from the list."]}
        )
    image = image_visible_to(user=reporter, image_id=image_id, share_token=share_token)
    job = getattr(image, "job", None)
    owner = getattr(job, "user", None)
    now = timezone.now()
    for _attempt in range(3):
        try:
            with transaction.atomic():
                report, created = Report.objects.select_for_update().get_or_create(
                    image_id=image.pk,
                    status=ReportStatus.OPEN,
                    defaults={
                        "job_id": getattr(job, "pk", None),
                        "owner": owner,
                        "reason": reason,
                        "created_at": now,
                        "last_reported_at": now,
                    },
                )
                _, filed = ReportFiling.objects.get_or_create(
                    report=report,
                    reporter=reporter,
                    defaults={"reason": reason, "details": details},
                )
                if filed:
                    Report.objects.filter(pk=report.pk).update(
                        report_count=F("report_count") + 1, last_reported_at=now
                    )
                    report.refresh_from_db()
                    if REPORT_SEVERITY[ReportReason(reason)] > REPORT_SEVERITY.get(
                        ReportReason(report.reason), 0
                    ):
                        report.reason = reason
                        report.save(update_fields=["reason"])
                review_item_open(
                    kind=ReviewKind.REPORT,
                    subject_type="generation.image",
                    subject_id=str(image.pk),
                    user=owner,
                    category=report.reason if report.reason != ReportReason.OTHER else "",
                    severity=REPORT_SEVERITY[ReportReason(report.reason)],
                    context={
                        "report_id": str(report.pk),
                        "image_ids": [str(image.pk)],
                        "job_id": str(job.pk) if job is not None else None,
                        "prompt": getattr(job, "prompt", ""),
                        "report_count": report.report_count,
                    },
                )
                if filed:
                    audit_record(
                        actor=reporter,
                        action="report.file" if created else "report.merge",
                        target=report,
                        after={"image": str(image.pk), "count": report.report_count},
                        reason=reason,
                    )
            return report
        except IntegrityError:
            continue  # a concurrent first report of the same image: merge into it
    raise ApplicationError(ErrorCode.CONFLICT, "Try again.")
