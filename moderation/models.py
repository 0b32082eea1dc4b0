"""Moderation records (SPEC §3, §7): policy versions, decisions, the prompt log, strikes."""

from __future__ import annotations

import uuid
from typing import Any

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils import timezone


class Stage(models.TextChoices):
    PROMPT = "prompt", "Prompt"
    OUTPUT = "output", "Output"


class Decision(models.TextChoices):
    ALLOW = "allow", "Allow"
    REVIEW = "review", "Hold for review"
    BLOCK = "block", "Block"


class Layer(models.TextChoices):
    RULES = "rules", "Rules"
    CLASSIFIER = "classifier", "Text classifier"
    EXTERNAL = "external", "External moderation API"
    IMAGE = "image", "Image classifiers"
    HUMAN = "human", "Human review"


class PolicyVersionImmutableError(Exception):
    """A published policy version never changes: editing means publishing a new one."""


@pgtrigger.register(
    pgtrigger.Protect(
        name="policy_version_immutable", operation=pgtrigger.Update | pgtrigger.Delete
    )
)
class PolicyVersion(models.Model):
    """One published moderation policy; immutable once created.

    ``document`` holds the whole policy as data (see ``moderation.policy``): category
    thresholds, term lists and combination rules, strike weights and thresholds,
    image and external-API thresholds, and where adult content is allowed.
    ``created_by`` has no database constraint, so erasing a staff account never has
    to touch (and cannot be refused by) this append-only table.
    """

    number = models.PositiveIntegerField(unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    reason = models.TextField()
    document = models.JSONField()

    class Meta:
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"policy v{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PolicyVersionImmutableError("publish a new policy version instead")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise PolicyVersionImmutableError("policy versions are never deleted")


class PromptLog(models.Model):
    """Every prompt submitted, rejected ones included (SPEC §7).

    The user is kept as a plain UUID: the log outlives neither its retention period
    nor a legal hold because of a foreign key. The scores of every layer are stored
    once, on the decision that names this log (``decisions``), not here as well.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user_id = models.UUIDField(db_index=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    prompt = models.TextField()
    negative_prompt = models.TextField(blank=True)
    normalized_prompt = models.TextField(blank=True)
    ip_hash = models.CharField(max_length=128, blank=True)
    jurisdiction = models.CharField(max_length=16, blank=True)
    # Left empty since 2026-12-06 (the decision stores the scores). The column stays so
    # that processes of the previous release, still running while ``migrate`` runs on a
    # deploy, can go on writing it; a later release may drop it.
    scores = models.JSONField(default=dict, blank=True)
    decision = models.CharField(max_length=8, choices=Decision.choices)
    category = models.CharField(max_length=32, blank=True)
    policy_version = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"prompt {self.pk} {self.decision}"


class ModerationDecision(models.Model):
    """One automated (or human) moderation decision with every layer's scores."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="moderation_decisions",
    )
    stage = models.CharField(max_length=8, choices=Stage.choices)
    subject_type = models.CharField(max_length=100, blank=True)
    subject_id = models.CharField(max_length=64, blank=True)
    decision = models.CharField(max_length=8, choices=Decision.choices)
    category = models.CharField(max_length=32, blank=True)
    layer = models.CharField(max_length=16, choices=Layer.choices, blank=True)
    severity = models.PositiveSmallIntegerField(default=0)
    span_start = models.PositiveIntegerField(null=True, blank=True)
    span_end = models.PositiveIntegerField(null=True, blank=True)
    matched_text = models.TextField(blank=True)
    normalized_prompt = models.TextField(blank=True)
    scores = models.JSONField(default=dict, blank=True)
    policy_version = models.ForeignKey(
        PolicyVersion, on_delete=models.PROTECT, related_name="decisions"
    )
    prompt_log = models.ForeignKey(
        PromptLog, null=True, blank=True, on_delete=models.SET_NULL, related_name="decisions"
    )
    # A later layer's decision (external API, output) points at the one it follows.
    follows = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="followed_by"
    )
    is_automated = models.BooleanField(default=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    statement = models.ForeignKey(
        "accountability.StatementOfReasons",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="moderation_decisions",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["subject_type", "subject_id"]),
            models.Index(fields=["decision", "category", "created_at"]),
        ]
        constraints = [
            # A re-delivered external check never records a second decision.
            models.UniqueConstraint(
                fields=["follows"],
                condition=models.Q(layer="external"),
                name="moderation_one_external_check_per_decision",
            ),
            # A re-delivered deep check never records a second text decision.
            models.UniqueConstraint(
                fields=["follows"],
                condition=models.Q(stage="prompt") & ~models.Q(layer="external"),
                name="moderation_one_deep_check_per_decision",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stage} {self.decision} {self.category or '-'}"

    @property
    def span(self) -> tuple[int, int] | None:
        if self.span_start is None or self.span_end is None:
            return None
        return (self.span_start, self.span_end)


class Strike(models.Model):
    """A strike against an account, weighted by the severity of what was blocked."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="strikes"
    )
    category = models.CharField(max_length=32)
    severity = models.PositiveSmallIntegerField()
    decision = models.ForeignKey(
        ModerationDecision,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="strikes",
    )
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoke_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "revoked_at", "created_at"])]

    def __str__(self) -> str:
        return f"strike {self.category} x{self.severity}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
