"""Accountability records (SPEC §7)."""

from __future__ import annotations

import uuid

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils import timezone


@pgtrigger.register(
    pgtrigger.Protect(name="audit_log_append_only", operation=pgtrigger.Update | pgtrigger.Delete)
)
class AuditLogEntry(models.Model):
    """One append-only, hash-chained audit record.

    ``entry_hash`` is SHA-256 over the previous row's hash and this row's canonical
    content, so altering, removing or reordering any row breaks the chain from that
    row on. PostgreSQL refuses UPDATE and DELETE on the table (a trigger). The actor
    is kept as a plain id and label, not a foreign key, so that erasing a user never
    has to touch this table.
    """

    created_at = models.DateTimeField()
    actor_id = models.UUIDField(null=True, blank=True)
    actor_label = models.CharField(max_length=255, blank=True)
    action = models.CharField(max_length=100)
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=100, blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    reason = models.TextField(blank=True)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "audit log entry"
        verbose_name_plural = "audit log"
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.target_type}:{self.target_id}"


# --- Statements of reasons (DSA Art. 17) -----------------------------------------------
# Values are this site's short names; ``accountability.dsa`` maps them to the DSA
# Transparency Database vocabulary on export.


class DecisionGround(models.TextChoices):
    ILLEGAL_CONTENT = "illegal_content", "Illegal content"
    INCOMPATIBLE_CONTENT = "incompatible_content", "Incompatible with the terms and conditions"


class AutomatedDecision(models.TextChoices):
    FULLY = "fully", "Fully automated"
    PARTIALLY = "partially", "Partially automated"
    NOT_AUTOMATED = "not_automated", "Not automated"


class DecisionVisibility(models.TextChoices):
    NONE = "", "None"
    CONTENT_REMOVED = "content_removed", "Removal of content"
    CONTENT_DISABLED = "content_disabled", "Disabling access to content"
    CONTENT_DEMOTED = "content_demoted", "Demotion of content"
    OTHER = "other", "Other restriction"


class DecisionAccount(models.TextChoices):
    NONE = "", "None"
    SUSPENDED = "suspended", "Suspension of the account"
    TERMINATED = "terminated", "Termination of the account"


class DecisionProvision(models.TextChoices):
    NONE = "", "None"
    PARTIAL_SUSPENSION = "partial_suspension", "Partial suspension of the service"
    TOTAL_SUSPENSION = "total_suspension", "Total suspension of the service"
    PARTIAL_TERMINATION = "partial_termination", "Partial termination of the service"
    TOTAL_TERMINATION = "total_termination", "Total termination of the service"


class DecisionMonetary(models.TextChoices):
    NONE = "", "None"
    SUSPENSION = "suspension", "Suspension of monetary payments"
    TERMINATION = "termination", "Termination of monetary payments"
    OTHER = "other", "Other restriction"


class ContentType(models.TextChoices):
    TEXT = "text", "Text (a prompt)"
    IMAGE = "image", "Image"
    SYNTHETIC_MEDIA = "synthetic_media", "Synthetic media (a generated image)"
    OTHER = "other", "Other (the account)"


class SourceType(models.TextChoices):
    VOLUNTARY = "voluntary", "Own voluntary initiative"
    ARTICLE_16 = "article_16", "Notice under Article 16 DSA (a user report)"
    TRUSTED_FLAGGER = "trusted_flagger", "Notice by a trusted flagger"


class StatementOfReasons(models.Model):
    """The explanation a user receives for every restriction of their content or account.

    ``decision`` is the site's name for what was done (``content_blocked``,
    ``account_suspended`` …); the four ``decision_*`` fields are the DSA's view of it.
    The user is kept nullable so that erasing an account never removes the record the
    DSA requires; the subject is a type and id, not a foreign key, for the same reason.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="statements_of_reasons",
    )
    subject_type = models.CharField(max_length=64)
    subject_id = models.CharField(max_length=64)
    category = models.CharField(max_length=32)
    decision = models.CharField(max_length=32)
    decision_visibility = models.CharField(
        max_length=32, choices=DecisionVisibility.choices, blank=True
    )
    decision_visibility_other = models.CharField(max_length=255, blank=True)
    decision_account = models.CharField(max_length=16, choices=DecisionAccount.choices, blank=True)
    decision_provision = models.CharField(
        max_length=32, choices=DecisionProvision.choices, blank=True
    )
    decision_monetary = models.CharField(
        max_length=16, choices=DecisionMonetary.choices, blank=True
    )
    decision_ground = models.CharField(max_length=32, choices=DecisionGround.choices)
    ground_reference = models.CharField(
        max_length=255, help_text="The law or the content policy section relied on."
    )
    content_type = models.CharField(max_length=32, choices=ContentType.choices)
    facts = models.TextField()
    automated_detection = models.BooleanField()
    automated_decision = models.CharField(max_length=16, choices=AutomatedDecision.choices)
    source_type = models.CharField(
        max_length=16, choices=SourceType.choices, default=SourceType.VOLUNTARY
    )
    territorial_scope = models.JSONField(default=list)
    application_date = models.DateTimeField(default=timezone.now)
    puid = models.CharField(max_length=64, unique=True, help_text="Platform unique identifier")
    strike_ids = models.JSONField(
        default=list, blank=True, help_text="Strikes this decision imposed (revoked on reversal)."
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "statement of reasons"
        verbose_name_plural = "statements of reasons"
        indexes = [models.Index(fields=["subject_type", "subject_id"])]
        constraints = [
            models.CheckConstraint(
                name="statement_restricts_something",
                condition=~models.Q(
                    decision_visibility="",
                    decision_account="",
                    decision_provision="",
                    decision_monetary="",
                ),
            )
        ]

    def __str__(self) -> str:
        return f"Statement {self.pk} ({self.decision}, {self.category})"


class AppealStatus(models.TextChoices):
    OPEN = "open", "Open"
    DECIDED = "decided", "Decided"


class AppealOutcome(models.TextChoices):
    NONE = "", "Pending"
    UPHELD = "upheld", "Decision upheld"
    REVERSED = "reversed", "Decision reversed"


class Appeal(models.Model):
    """A user's appeal of one statement (DSA Art. 20); one per statement (a constraint)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    statement = models.OneToOneField(
        StatementOfReasons, on_delete=models.PROTECT, related_name="appeal"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="appeals"
    )
    text = models.TextField(help_text="The user's grounds for the appeal.")
    status = models.CharField(
        max_length=16, choices=AppealStatus.choices, default=AppealStatus.OPEN
    )
    outcome = models.CharField(max_length=16, choices=AppealOutcome.choices, blank=True)
    ruled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reasons = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    user_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Appeal of {self.statement_id} ({self.status})"


class ReportReason(models.TextChoices):
    SEXUAL = "sexual", "Sexual content"
    SEXUAL_MINORS = "sexual_minors", "Sexual content involving minors"
    NONCONSENSUAL = "nonconsensual", "Non-consensual imagery of a real person"
    VIOLENCE_GRAPHIC = "violence_graphic", "Graphic violence"
    HATE = "hate", "Hate"
    SELF_HARM = "self_harm", "Self-harm"
    ILLEGAL = "illegal", "Illegal activity"
    OTHER = "other", "Something else"


class ReportStatus(models.TextChoices):
    OPEN = "open", "Open"
    DECIDED = "decided", "Decided"


class Report(models.Model):
    """User reports of one image, merged: at most one open report per image (a constraint)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    image_id = models.UUIDField()
    job_id = models.UUIDField(null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=32, choices=ReportReason.choices)
    status = models.CharField(
        max_length=16, choices=ReportStatus.choices, default=ReportStatus.OPEN
    )
    report_count = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_reported_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_reported_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["image_id"],
                condition=models.Q(status="open"),
                name="one_open_report_per_image",
            )
        ]

    def __str__(self) -> str:
        return f"Report of image {self.image_id} ×{self.report_count}"


class ReportFiling(models.Model):
    """One notice, merged into a Report; a notifier counts once per report.

    A signed-in reporter is ``reporter``. A signed-out visitor of a shared page gives a
    name and an email address instead (DSA Art. 16(2)(c); both optional for a report of
    sexual content involving minors), counted once per address. Every notifier with an
    address hears the outcome (Art. 16(5)): ``notified_at``.
    """

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="filings")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    notifier_name = models.CharField(max_length=200, blank=True)
    notifier_email = models.EmailField(blank=True)
    reason = models.CharField(max_length=32, choices=ReportReason.choices)
    details = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["report", "reporter"], name="one_filing_per_reporter"),
            models.UniqueConstraint(
                fields=["report", "notifier_email"],
                condition=models.Q(reporter__isnull=True) & ~models.Q(notifier_email=""),
                name="one_filing_per_notifier_email",
            ),
        ]

    def __str__(self) -> str:
        return f"Filing of report {self.report_id}"


class LegalHold(models.Model):
    """Preserves a user's data (prompt logs, images, evidence) from retention and erasure."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="legal_holds"
    )
    reason = models.TextField()
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    placed_at = models.DateTimeField(default=timezone.now)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    release_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-placed_at"]

    def __str__(self) -> str:
        return f"Legal hold on {self.user_id}"

    @property
    def is_active(self) -> bool:
        return self.released_at is None


class CsamCaseStatus(models.TextChoices):
    OPEN = "open", "Open"
    REPORTED = "reported", "Reported to NCMEC"
    CLOSED = "closed", "Closed"


class CsamCase(models.Model):
    """Evidence of a ``sexual_minors`` hit, preserved for at least a year; seniors only."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        max_length=16, choices=CsamCaseStatus.choices, default=CsamCaseStatus.OPEN
    )
    decision_ref = models.CharField(max_length=100, blank=True)
    evidence = models.JSONField(default=dict)
    tip_number = models.CharField(max_length=64, blank=True)
    opened_at = models.DateTimeField(default=timezone.now)
    reported_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    preserve_until = models.DateTimeField()

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.CheckConstraint(
                name="csam_reported_has_tip_number",
                condition=~models.Q(status="reported", tip_number=""),
            )
        ]

    def __str__(self) -> str:
        return f"CSAM case {self.pk} ({self.status})"


# --- The review queue (SPEC §8) ------------------------------------------------------


class ReviewKind(models.TextChoices):
    PROMPT = "prompt", "Held prompt"
    OUTPUT = "output", "Held output"
    REPORT = "report", "User report"
    APPEAL = "appeal", "Appeal"


class ReviewStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLAIMED = "claimed", "Claimed"
    DECIDED = "decided", "Decided"


class ReviewItem(models.Model):
    """Something a human must decide.

    Severity runs 1 (low) … 5 (critical). ``due_at`` is the creation time plus the SLA of
    the severity band, so ordering by it ranks by severity and age together: a critical
    item jumps the queue, and a low one rises as it waits. ``context`` carries what the
    console shows (prompt, normalised prompt, layer scores, matched span, image ids), so
    the console works from the item alone.
    """

    kind = models.CharField(max_length=16, choices=ReviewKind.choices)
    subject_type = models.CharField(max_length=64)
    subject_id = models.CharField(max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="review_items",
    )
    category = models.CharField(max_length=32, blank=True)
    severity = models.PositiveSmallIntegerField(default=3)
    priority = models.PositiveSmallIntegerField(default=3, help_text="1 (low) … 4 (critical)")
    due_at = models.DateTimeField(db_index=True)
    requires_senior = models.BooleanField(default=False)
    excluded_moderator_id = models.UUIDField(
        null=True, blank=True, help_text="Who may not decide this (the original decider)."
    )
    status = models.CharField(
        max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.OPEN
    )
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_expires_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision = models.CharField(max_length=32, blank=True)
    decision_reason = models.TextField(blank=True)
    statement = models.ForeignKey(
        StatementOfReasons, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    context = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["due_at"]
        indexes = [models.Index(fields=["status", "due_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject_type", "subject_id"],
                condition=~models.Q(status="decided"),
                name="one_pending_review_per_subject",
            )
        ]

    def __str__(self) -> str:
        return f"Review {self.pk} {self.kind} {self.subject_type}:{self.subject_id}"

    @property
    def is_sla_breached(self) -> bool:
        return self.status != ReviewStatus.DECIDED and self.due_at < timezone.now()
