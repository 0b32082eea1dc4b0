"""The user account. Email is the login; the primary key is a UUID (never an enumerable id)."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin
from django.db import models
from django.utils import timezone

from accounts.validation import validate_jurisdiction


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)


class AccountState(models.TextChoices):
    ACTIVE = "active", "Active"
    COOLDOWN = "cooldown", "Cooling down"
    SUSPENDED = "suspended", "Suspended"
    BANNED = "banned", "Banned"


class AgeVerificationStatus(models.TextChoices):
    UNVERIFIED = "unverified", "Unverified"
    PENDING = "pending", "Pending"
    VERIFIED = "verified", "Verified"
    FAILED = "failed", "Failed"


class User(AbstractBaseUser, PermissionsMixin):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField("email address", unique=True)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    # Declared at sign-up (SPEC §5); the verified date of birth is never stored.
    date_of_birth = models.DateField(null=True, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    region = models.CharField(max_length=8, blank=True, help_text="ISO 3166-2 subdivision")
    time_zone = models.CharField(max_length=64, default="UTC")

    account_state = models.CharField(
        max_length=16, choices=AccountState.choices, default=AccountState.ACTIVE
    )
    account_state_reason = models.TextField(blank=True)
    cooldown_until = models.DateTimeField(null=True, blank=True)

    age_verification_status = models.CharField(
        max_length=16,
        choices=AgeVerificationStatus.choices,
        default=AgeVerificationStatus.UNVERIFIED,
    )
    age_verified_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["email"]
        # Staff roles checked by ``accounts.roles`` (SPEC §1).
        permissions = [
            ("review_content", "Can review content and take moderation decisions"),
            (
                "senior_moderation",
                "Can rule on appeals, ban, escalate CSAM, edit policy and legal holds",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def is_age_verified(self) -> bool:
        return self.age_verification_status == AgeVerificationStatus.VERIFIED


# The jurisdiction table, kept per process by ``accounts.selectors`` (read there,
# cleared here on every save or delete through the model).
jurisdiction_rows_cache: dict[str, tuple[float, list[Jurisdiction]]] = {}


def jurisdiction_cache_clear() -> None:
    jurisdiction_rows_cache.clear()


class Jurisdiction(models.Model):
    """Rules of one country or one region of it; country "" is the default for everyone else.

    ``moderation_overrides`` maps a moderation category to stricter thresholds,
    ``{"violence_graphic": {"allow": 0.2, "block": 0.6}}``; ``disabled_features`` lists
    plan features that may not be used there (``photoreal_humans``, ``adult_content``).
    """

    country = models.CharField(
        max_length=2, blank=True, help_text="ISO 3166-1 alpha-2; empty: default"
    )
    region = models.CharField(
        max_length=8,
        blank=True,
        help_text="ISO 3166-2 subdivision (e.g. US-AL); empty: whole country",
    )
    name = models.CharField(max_length=100)
    min_age = models.PositiveSmallIntegerField(default=18)
    disabled_features = models.JSONField(default=list, blank=True)
    moderation_overrides = models.JSONField(default=dict, blank=True)
    notes = models.TextField(blank=True, help_text="Legal basis and sources")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["country", "region"]
        constraints = [
            models.UniqueConstraint(fields=["country", "region"], name="jurisdiction_unique_place"),
            models.CheckConstraint(
                condition=models.Q(region="") | ~models.Q(country=""),
                name="jurisdiction_region_needs_country",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        jurisdiction_cache_clear()  # this process sees the change at once

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        result = super().delete(*args, **kwargs)
        jurisdiction_cache_clear()
        return result

    @property
    def code(self) -> str:
        return self.region or self.country or "default"

    def clean(self) -> None:
        validate_jurisdiction(self)


class AgeVerificationMethod(models.TextChoices):
    STRIPE_IDENTITY = "stripe_identity", "Stripe Identity (document)"
    MANUAL = "manual", "Manual (senior moderator)"


class AgeVerificationOutcome(models.TextChoices):
    PENDING = "pending", "Pending"
    VERIFIED = "verified", "Verified, old enough"
    UNDER_AGE = "under_age", "Verified, under the minimum age"
    REQUIRES_INPUT = "requires_input", "Failed (requires input)"
    CANCELED = "canceled", "Canceled"
    REJECTED = "rejected", "Rejected by a moderator"


class AgeVerification(models.Model):
    """One age check. Only the outcome, when, the session id and the method are kept:
    never the date of birth read from the document, nor any document data."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="age_verifications")
    method = models.CharField(max_length=16, choices=AgeVerificationMethod.choices)
    outcome = models.CharField(
        max_length=16,
        choices=AgeVerificationOutcome.choices,
        default=AgeVerificationOutcome.PENDING,
    )
    session_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    min_age = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The jurisdiction's minimum age the check was made against"
    )
    created_at = models.DateTimeField(default=timezone.now)
    checked_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    evidence_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_method_display()}: {self.get_outcome_display()}"


class AgeVerificationFlag(models.Model):
    """Something about an age check that a senior moderator must look at."""

    class Reason(models.TextChoices):
        DOB_MISMATCH = "dob_mismatch", "Verified date of birth differs from the declared one"
        UNDER_AGE = "under_age", "Verified age is under the jurisdiction's minimum"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="age_verification_flags")
    verification = models.ForeignKey(
        AgeVerification, on_delete=models.CASCADE, related_name="flags"
    )
    reason = models.CharField(max_length=16, choices=Reason.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} ({self.get_status_display()})"


class IdentityEvent(models.Model):
    """A Stripe Identity webhook event, stored once by its id so that replays do nothing."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    session_id = models.CharField(max_length=255, blank=True)
    result = models.CharField(max_length=32)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"


class ApiScope(models.TextChoices):
    READ = "read", "Read your own data"
    GENERATE = "generate", "Create and cancel generations"
    REPORT = "report", "Reports and appeals"


class ApiKey(models.Model):
    """A personal API key. Only the SHA-256 of the secret is stored; the prefix stays visible."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    # Not a column: what the lookup that authenticated this key read besides (the
    # ``LookupColumns`` a view asked for, ``accounts.services.api_key_authenticate``).
    lookup_columns: tuple[Any, ...] | None = None

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
