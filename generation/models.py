"""Generation jobs and their images (SPEC §2)."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    BLOCKED = "blocked", "Blocked"
    HELD_FOR_REVIEW = "held_for_review", "Held for review"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"


FINISHED_STATUSES = frozenset(
    {JobStatus.SUCCEEDED, JobStatus.BLOCKED, JobStatus.FAILED, JobStatus.CANCELED}
)


class HoldStage(models.TextChoices):
    NONE = "", "Not held"
    PROMPT = "prompt", "Prompt held before generation"
    OUTPUT = "output", "Images held after generation"


class GenerationJob(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="generation_jobs"
    )
    status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.QUEUED)
    hold_stage = models.CharField(
        max_length=10, choices=HoldStage.choices, default=HoldStage.NONE, blank=True
    )
    # NULL, not "", when absent: the unique constraint applies to given keys only.
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001

    prompt = models.TextField()
    negative_prompt = models.TextField(blank=True)
    model_id = models.CharField(max_length=64)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    steps = models.PositiveIntegerField()
    guidance_scale = models.FloatField()
    seed = models.BigIntegerField()
    num_images = models.PositiveSmallIntegerField(default=1)
    no_distribution = models.BooleanField(default=False)

    credits_reserved = models.PositiveIntegerField(default=0)
    credits_charged = models.PositiveIntegerField(default=0)
    queue_priority = models.PositiveSmallIntegerField(default=5)

    progress_step = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=3)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # The fencing token of the current attempt: set by the claim, cleared when the
    # attempt ends or is taken away. Every write of an attempt is conditional on it, so
    # a worker that lost its job (paused past its lease, cut off) changes nothing.
    attempt_token = models.UUIDField(null=True, blank=True)
    # A queued job waits for the asynchronous (external) prompt check before the GPU
    # may take it; the GPU claim refuses such a job.
    awaiting_check = models.BooleanField(default=False)
    # When the job's last message (GPU run or prompt check) was published: the
    # dispatch reconciler re-sends a queued job whose message is older than its bound.
    dispatched_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=255, blank=True)
    error = models.TextField(blank=True)
    timings = models.JSONField(default=dict, blank=True)

    moderation_decision_id = models.UUIDField(null=True, blank=True)
    moderation_category = models.CharField(max_length=32, blank=True)
    statement_id = models.UUIDField(null=True, blank=True)
    ip_hash = models.CharField(max_length=64, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    # Dense order of entering the queue (a PostgreSQL sequence): the queue position is
    # this minus the queue head's, one index probe instead of a COUNT (selectors).
    queue_seq = models.BigIntegerField(null=True, blank=True, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="generation_job_unique_idempotency_key",
            ),
            models.CheckConstraint(
                condition=Q(credits_charged__lte=models.F("credits_reserved")),
                name="generation_job_charged_within_reserved",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-created_at"]),
            models.Index(fields=["status", "lease_expires_at"]),
            models.Index(
                fields=["queue_priority", "queued_at"],
                condition=Q(status="queued"),
                name="generation_job_queued_order",
            ),
            models.Index(
                fields=["queue_seq"],
                condition=Q(status="queued"),
                name="generation_job_queue_head",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} ({self.status})"

    @property
    def credit_reference(self) -> str:
        return self.credit_reference_for(self.id)

    @staticmethod
    def credit_reference_for(job_id: Any) -> str:
        """The ledger reference of job ``job_id``'s credits (no instance needed)."""
        return f"generation:{job_id}"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES


class GeneratedImage(models.Model):
    """One image of a job. Never served to its owner before the job succeeded."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    job = models.ForeignKey(GenerationJob, on_delete=models.CASCADE, related_name="images")
    index = models.PositiveSmallIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64, help_text="Of the delivered PNG file.")
    render_sha256 = models.CharField(
        max_length=64,
        help_text="Of the raw RGB pixels before provenance: equal for equal seed and parameters.",
    )
    storage_key = models.CharField(max_length=500)
    has_watermark = models.BooleanField(default=True)
    has_c2pa = models.BooleanField(default=False)
    purged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["job", "index"]
        constraints = [
            models.UniqueConstraint(fields=["job", "index"], name="generated_image_unique_index")
        ]

    def __str__(self) -> str:
        return f"{self.id} of {self.job_id}"


class ShareLink(models.Model):
    """A revocable public link to one image, with an unguessable token."""

    image = models.ForeignKey(GeneratedImage, on_delete=models.CASCADE, related_name="share_links")
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"share {self.token[:6]}… of {self.image_id}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
