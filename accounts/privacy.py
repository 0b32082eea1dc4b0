"""Data export and account erasure (GDPR Art. 15, 17 and 20).

The generation app's data (jobs and images) is exported and erased through the
up-calls ``accounts.upcalls.generations_export`` / ``generations_erase``, which it
provides in its ``AppConfig.ready`` (checked at start-up, core/upcalls.py). A section
is ``(user) -> JSON-able``; an erasure step is ``(user, under_legal_hold) ->
list[str]`` of what it kept and why, shown to the user.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.db import transaction
from django.utils import timezone

from accountability.audit import audit_record
from accountability.legal_holds import is_under_legal_hold
from accounts.models import (
    AgeVerification,
    ApiKey,
    User,
)
from accounts.personal_data import personal_data_erase, personal_data_export
from accounts.selectors import user_jurisdiction
from accounts.upcalls import generations_erase, generations_export
from core.stripe_client import offline_stand_in_erase

# What erasure always keeps, and why: shown to the user before and after.
KEPT_ALWAYS = [
    "The account's random id, creation date, country and account state, so that "
    "records other law requires us to keep (invoices, moderation decisions, statements "
    "of reasons, the audit log) still refer to an account, though no longer to you.",
    "Age-verification outcomes (verified or not, when, which method and the Stripe "
    "session id) — never the document or the date of birth — as proof that our age "
    "checks were made.",
    "Billing records that tax law requires us to keep (usually 10 years).",
]
KEPT_ALWAYS.append(
    "Moderation and billing records about the account (statements of reasons, strikes, "
    "decisions, reports, the credit ledger) without their free text: your prompts, "
    "appeal and report texts and notes about you are blanked."
)
KEPT_UNDER_LEGAL_HOLD = (
    "Records that a legal obligation requires us to preserve are kept, unchanged, "
    "for as long as that obligation lasts: for example evidence we must preserve for "
    "the authorities (such as child-safety reports), with the prompts, images and "
    "account data it holds."
)


def _iso(value: Any) -> Any:
    return value.isoformat() if value is not None and hasattr(value, "isoformat") else value


def user_export(*, user: User) -> dict[str, Any]:
    """Everything this app holds about ``user``, plus each registered app's section."""
    jurisdiction = user_jurisdiction(user=user)
    data: dict[str, Any] = {
        "format": "imagegate-export/1",
        "exported_at": timezone.now().isoformat(),
        "account": {
            "id": str(user.pk),
            "email": user.email,
            "date_joined": _iso(user.date_joined),
            "last_login": _iso(user.last_login),
            "date_of_birth": _iso(user.date_of_birth),
            "country": user.country,
            "region": user.region,
            "time_zone": user.time_zone,
            "account_state": user.account_state,
            "account_state_reason": user.account_state_reason,
            "cooldown_until": _iso(user.cooldown_until),
            "age_verification_status": user.age_verification_status,
            "age_verified_at": _iso(user.age_verified_at),
            "groups": sorted(user.groups.values_list("name", flat=True)),
        },
        "jurisdiction": {
            "code": jurisdiction.code,
            "min_age": jurisdiction.min_age,
            "disabled_features": list(jurisdiction.disabled_features or []),
        },
        "email_addresses": [
            {"email": address.email, "verified": address.verified, "primary": address.primary}
            for address in EmailAddress.objects.filter(user=user).order_by("email")
        ],
        "age_verifications": [
            {
                "method": verification.method,
                "outcome": verification.outcome,
                "session_id": verification.session_id,
                "min_age": verification.min_age,
                "created_at": _iso(verification.created_at),
                "checked_at": _iso(verification.checked_at),
            }
            for verification in AgeVerification.objects.filter(user=user).order_by("created_at")
        ],
        "api_keys": [
            {
                "id": str(key.pk),
                "name": key.name,
                "prefix": key.prefix,
                "scopes": key.scopes,
                "created_at": _iso(key.created_at),
                "last_used_at": _iso(key.last_used_at),
                "revoked_at": _iso(key.revoked_at),
            }
            for key in ApiKey.objects.filter(user=user).order_by("created_at")
        ],
        "two_factor": [
            {"type": authenticator.type, "created_at": _iso(authenticator.created_at)}
            for authenticator in Authenticator.objects.filter(user=user).order_by("created_at")
        ],
    }
    data["generations"] = generations_export.handler(user)
    data.update(personal_data_export(user=user))
    return data


def user_is_under_legal_hold(*, user: User) -> bool:
    """A legal hold (accountability app) keeps identity data from erasure."""
    return bool(is_under_legal_hold(user=user))


@dataclass
class ErasureResult:
    under_legal_hold: bool
    kept: list[str] = field(default_factory=list)


def _pseudonymise_admin_log(*, user: User) -> None:
    """Django admin's history names an edited account by its ``str()`` (the address)."""
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(User), object_id=str(user.pk)
    ).update(object_repr=f"user:{user.pk}")


def user_erase(*, user: User) -> ErasureResult:
    """Erase an account by pseudonymising it (the row stays for legal references).

    Always: the account is closed (inactive and with an unusable password, which ends
    every session; API keys revoked; two-factor devices removed). Unless a legal hold
    applies: the email becomes ``erased-<uuid>@invalid``, the email addresses are
    removed, and the date of birth, region and time zone are cleared. Under a legal
    hold those identity fields stay as they are until the hold ends (GDPR Art. 17(3)).
    """
    under_hold = user_is_under_legal_hold(user=user)
    kept = list(KEPT_ALWAYS)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        now = timezone.now()
        revoked = ApiKey.objects.filter(user=locked, revoked_at__isnull=True).update(revoked_at=now)
        Authenticator.objects.filter(user=locked).delete()
        locked.set_unusable_password()
        locked.is_active = False
        fields = ["password", "is_active"]
        if not under_hold:
            EmailAddress.objects.filter(user=locked).delete()
            locked.email = f"erased-{uuid.uuid4()}@invalid"
            locked.date_of_birth = None
            locked.region = ""
            locked.time_zone = "UTC"
            fields += ["email", "date_of_birth", "region", "time_zone"]
        else:
            kept.append(KEPT_UNDER_LEGAL_HOLD)
        locked.save(update_fields=fields)
        kept.extend(generations_erase.handler(locked, under_hold))
        offline_stand_in_erase(locked)  # development and test settings only
        if not under_hold:
            personal_data_erase(user=locked)
            _pseudonymise_admin_log(user=locked)
        # Recorded after pseudonymising, so the audit log never holds the old address.
        audit_record(
            actor=locked,
            action="accounts.user.erase",
            target=locked,
            after={"api_keys_revoked": revoked, "deferred_by_legal_hold": under_hold},
            reason="Erasure requested by the user",
        )
    user.refresh_from_db()
    return ErasureResult(under_legal_hold=under_hold, kept=kept)
