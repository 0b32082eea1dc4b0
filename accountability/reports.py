"""User reports of images (DSA Art. 16 notices): repeated reports of one image merge."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accountability.audit import audit_record
from accountability.models import Report, ReportFiling, ReportReason, ReportStatus, ReviewKind
from accountability.review import review_item_open
from core import categories
from core.errors import ApplicationError, ErrorCode
from generation.selectors import image_visible_to

NO_ACTION = "no_action"  # the outcome of a report a moderator found unfounded
REPORT_SEVERITY = {c.key: c.report_priority for c in categories.REPORTABLE} | {
    ReportReason.OTHER: 2
}


def report_file(
    *,
    reporter: Any | None,
    image_id: Any,
    reason: str,
    details: str = "",
    share_token: str = "",
    notifier_name: str = "",
    notifier_email: str = "",
) -> Report:
    """Report an image the notifier can see; one open report per image collects them.

    The image must be visible to the reporter (``generation.selectors.image_visible_to``,
    which answers 404 otherwise): their own, or one shared with them by a link. A
    signed-out notifier (``reporter`` None) reports a shared image by its link and gives
    a name and email address (``notifier_errors``). A notifier counts once per report:
    a signed-in one by account, a signed-out one by address.
    """
    signed_in = reporter is not None and reporter.is_authenticated
    errors = {} if signed_in else notifier_errors(reason, notifier_name, notifier_email)
    if reason not in ReportReason.values:
        errors["reason"] = ["Choose a reason from the list."]
    if errors:
        raise ApplicationError(ErrorCode.INVALID_REQUEST, details=errors)
    notifier = (
        {}
        if signed_in
        else {
            "notifier_name": notifier_name.strip(),
            "notifier_email": notifier_email.strip().lower(),
        }
    )
    if not signed_in:
        reporter = None
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
                if reporter is None and not notifier["notifier_email"]:
                    # An anonymous report of sexual content involving minors: no address
                    # to count it by, so every one is a filing (the form is rate-limited).
                    ReportFiling.objects.create(
                        report=report, reason=reason, details=details, **notifier
                    )
                    filed = True
                elif reporter is None:
                    _, filed = ReportFiling.objects.get_or_create(
                        report=report,
                        reporter=None,
                        notifier_email=notifier["notifier_email"],
                        defaults={
                            "reason": reason,
                            "details": details,
                            "notifier_name": notifier["notifier_name"],
                        },
                    )
                else:
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
                        after={
                            "image": str(image.pk),
                            "count": report.report_count,
                            "notifier": "account" if reporter is not None else "anonymous",
                        },
                        reason=reason,
                    )
            return report
        except IntegrityError:
            continue  # a concurrent first report of the same image: merge into it
    raise ApplicationError(ErrorCode.CONFLICT, "Try again.")


def notifier_errors(reason: str, name: str, email: str) -> dict[str, list[str]]:
    """What a signed-out notifier must give (DSA Art. 16(2)(c)): a name and a valid
    email address, except for a report of sexual content involving minors, which may
    be anonymous; an address given there must still be valid."""
    errors: dict[str, list[str]] = {}
    anonymous_allowed = reason == ReportReason.SEXUAL_MINORS
    if len(name) > 200:
        errors["notifier_name"] = ["At most 200 characters."]
    elif not name.strip() and not anonymous_allowed:
        errors["notifier_name"] = ["Give your name (the law requires it for this report)."]
    if email.strip():
        try:
            validate_email(email.strip())
        except ValidationError:
            errors["notifier_email"] = ["Enter a valid email address."]
    elif not anonymous_allowed:
        errors["notifier_email"] = ["Give an email address to hear the outcome."]
    return errors


def report_notify_outcome(*, report_id: Any) -> int:
    """Tell every notifier with an address how their report was decided (DSA Art.
    16(5)); each once, whatever the retries. Returns how many were told."""
    report = Report.objects.filter(pk=report_id, status=ReportStatus.DECIDED).first()
    if report is None:
        return 0
    told = 0
    pending = report.filings.filter(notified_at__isnull=True).select_related("reporter")
    for filing in pending:
        address = filing.reporter.email if filing.reporter is not None else filing.notifier_email
        if address:
            send_mail(
                "The image you reported was reviewed",
                _outcome_text(report.outcome),
                None,
                [address],
            )
            told += 1
        ReportFiling.objects.filter(pk=filing.pk, notified_at__isnull=True).update(
            notified_at=timezone.now()
        )
    return told


def reports_notify_pending(*, older_than_seconds: int = 300) -> int:
    """The sweep behind the on-commit notice: decided reports whose notifiers were not
    told (a lost task message, a mail server that was down). Returns how many were."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    report_ids = (
        ReportFiling.objects.filter(
            notified_at__isnull=True,
            report__status=ReportStatus.DECIDED,
            report__decided_at__lte=cutoff,
        )
        .values_list("report_id", flat=True)
        .distinct()
    )
    return sum(report_notify_outcome(report_id=report_id) for report_id in list(report_ids))


def _outcome_text(outcome: str) -> str:
    removed = outcome != NO_ACTION
    verdict = (
        "A moderator found that it breaks our content policy, and it has been removed."
        if removed
        else "A moderator found that it does not break our content policy, so it stays up."
    )
    return (
        f"Thank you for your report. {verdict}\n\n"
        "We do not tell the owner of the image who reported it. "
        f"Our content policy: {settings.SITE_URL}/policy/\n"
    )
