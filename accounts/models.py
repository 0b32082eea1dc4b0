"""The user account. Email is the login; the primary key is a UUID (never an enumerable id)."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin
from django.db import models
from django.utils import timezone


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

    def __str__(self) -> str:
        return self.email

    @property
    def is_age_verified(self) -> bool:
        return self.age_verification_status == AgeVerificationStatus.VERIFIED

    def in_group(self, *names: str) -> bool:
        return self.is_superuser or self.groups.filter(name__in=names).exists()
