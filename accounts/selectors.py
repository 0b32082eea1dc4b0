"""Reads of the accounts app (STYLE.md: services write, selectors read)."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.db.models import Q, QuerySet

from accounts.models import (
    AccountState,
    AgeVerification,
    ApiKey,
    Jurisdiction,
    User,
    jurisdiction_rows_cache,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

DEFAULT_MIN_AGE = 18


def _jurisdiction_rows() -> list[Jurisdiction] | None:
    """The whole (small) jurisdiction table, kept per process for
    ``IMAGEGATE_REFERENCE_CACHE_SECONDS`` (0: not kept); a save or delete through the
    model clears it in this process, other processes see a change within that time."""
    ttl = float(getattr(settings, "IMAGEGATE_REFERENCE_CACHE_SECONDS", 0))
    if ttl <= 0:
        return None
    now = time.monotonic()
    cached = jurisdiction_rows_cache.get("rows")
    if cached is not None and now - cached[0] < ttl:
        return cached[1]
    rows = list(Jurisdiction.objects.all())
    jurisdiction_rows_cache["rows"] = (now, rows)
    return rows


def jurisdiction_for(*, country: str, region: str = "") -> Jurisdiction:
    """The most specific row: region → country → default ("" country) → built-in 18."""
    country = (country or "").upper()
    region = (region or "").upper()
    rows = _jurisdiction_rows()
    if rows is not None:
        candidates = [
            row
            for row in rows
            if (row.country, row.region) in (("", ""), (country, ""), (country, region))
        ]
    else:
        candidates = list(
            Jurisdiction.objects.filter(
                Q(country="", region="")
                | Q(country=country, region="")
                | Q(country=country, region=region)
            )
        )

    def specificity(row: Jurisdiction) -> int:
        if row.region and row.region == region:
            return 2
        if row.country and row.country == country:
            return 1
        return 0

    if candidates:
        return max(candidates, key=specificity)
    return Jurisdiction(country="", region="", name="Default", min_age=DEFAULT_MIN_AGE)


def user_jurisdiction(*, user: User) -> Jurisdiction:
    """The jurisdiction whose rules apply to ``user`` (declared country and region)."""
    return jurisdiction_for(country=user.country, region=user.region)


def user_email_verified(*, user: User) -> bool:
    return EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True).exists()


def user_has_totp(*, user: User | AnonymousUser) -> bool:
    if not user.is_authenticated:
        return False
    return Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.TOTP).exists()


def api_key_list(*, user: User) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(user=user).order_by("-created_at")


def api_key_get(*, user: User, key_id: uuid.UUID | str) -> ApiKey | None:
    """The user's own key; a foreign or unknown id is the same: None."""
    return ApiKey.objects.filter(user=user, pk=key_id).first()


def age_verification_latest(*, user: User) -> AgeVerification | None:
    return AgeVerification.objects.filter(user=user).order_by("-created_at").first()


def user_effective_account_state(*, user: User) -> str:
    """The state as it applies now: a cool-down whose end has passed is ``active``."""
    from django.utils import timezone

    if (
        user.account_state == AccountState.COOLDOWN
        and user.cooldown_until is not None
        and user.cooldown_until <= timezone.now()
    ):
        return AccountState.ACTIVE.value
    return str(user.account_state)
