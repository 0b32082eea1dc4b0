"""Age verification through Stripe Identity (SPEC §5).

The account page starts a document VerificationSession; Stripe reports the result to
``/accounts/stripe/identity-webhook/`` or to the billing inbox (``/billing/stripe/webhook/``,
whose ``handle_identity_event`` calls ``identity_event_apply``). On ``verified`` the
handler reads the date of birth from ``verified_outputs`` (a restricted key,
``expand``), compares it with the jurisdiction's minimum age and with the declared one,
and keeps only the outcome, the date, the session id and the method. The date of birth
read from the document is never stored or logged.

The client is the platform's one (``core.stripe_client``). Offline
(``settings.STRIPE_OFFLINE``) the same code runs against ``devstripe.identity``, a
stand-in for Stripe's servers behind the real library.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accountability.audit import audit_record
from accounts.age import age_in_zone
from accounts.models import (
    AgeVerification,
    AgeVerificationFlag,
    AgeVerificationMethod,
    AgeVerificationOutcome,
    AgeVerificationStatus,
    IdentityEvent,
    User,
)
from accounts.selectors import user_email_verified, user_jurisdiction
from accounts.upcalls import identity_session_created
from core.errors import ApplicationError, ErrorCode
from core.http import InvalidJson, json_loads_bounded
from core.site import site_url
from core.stripe_client import stripe_client

logger = logging.getLogger(__name__)

EVENT_VERIFIED = "identity.verification_session.verified"
EVENT_REQUIRES_INPUT = "identity.verification_session.requires_input"
EVENT_CANCELED = "identity.verification_session.canceled"
HANDLED_EVENTS = frozenset({EVENT_VERIFIED, EVENT_REQUIRES_INPUT, EVENT_CANCELED})
TERMINAL_OUTCOMES = frozenset(
    {
        AgeVerificationOutcome.VERIFIED,
        AgeVerificationOutcome.UNDER_AGE,
        AgeVerificationOutcome.CANCELED,
    }
)
SESSIONS_PER_DAY = 5
SIGNATURE_TOLERANCE_S = 300
STRIPE_ACTOR = "stripe_identity"


# --- keys (the client is the platform's one, core.stripe_client) ------------------------


def _secret_key() -> str:
    return str(settings.STRIPE_SECRET_KEY)


def _identity_key() -> str:
    """The restricted key that may read verified outputs (the secret key as a fallback)."""
    return str(settings.STRIPE_IDENTITY_KEY or settings.STRIPE_SECRET_KEY)


def _webhook_secret() -> str:
    return str(
        getattr(settings, "STRIPE_IDENTITY_WEBHOOK_SECRET", "") or settings.STRIPE_WEBHOOK_SECRET
    )


# --- starting a verification ------------------------------------------------------------


def age_verification_start(*, user: User) -> str:
    """Start a Stripe Identity document check; answer the URL to send the user to.

    Refused when already verified (409), before the email address is verified (403
    ``email_unverified``), and after ``SESSIONS_PER_DAY`` sessions in 24 hours (429):
    each session costs money.
    """
    if user.is_age_verified:
        raise ApplicationError(ErrorCode.CONFLICT, "Your age is already verified.")
    if not user_email_verified(user=user):
        raise ApplicationError(ErrorCode.EMAIL_UNVERIFIED)
    since = timezone.now() - dt.timedelta(days=1)
    recent = AgeVerification.objects.filter(
        user=user, method=AgeVerificationMethod.STRIPE_IDENTITY, created_at__gte=since
    ).count()
    if recent >= SESSIONS_PER_DAY:
        raise ApplicationError(
            ErrorCode.RATE_LIMITED,
            "Too many verification attempts today; try again tomorrow.",
            headers={"Retry-After": str(24 * 3600)},
        )
    return_url = site_url(reverse("accounts:age-verification-return"))
    try:
        session = stripe_client(api_key=_secret_key()).v1.identity.verification_sessions.create(
            params={
                "type": "document",
                "client_reference_id": str(user.pk),
                "metadata": {"user_id": str(user.pk)},
                "return_url": return_url,
                "options": {
                    "document": {
                        "allowed_types": ["driving_license", "id_card", "passport"],
                        "require_live_capture": True,
                        "require_matching_selfie": True,
                    }
                },
            }
        )
    except stripe.StripeError as exc:
        logger.warning("Stripe Identity session could not be created: %s", exc.__class__.__name__)
        raise ApplicationError(
            ErrorCode.SERVICE_UNAVAILABLE, "Age verification is unavailable; try again later."
        ) from exc
    min_age = user_jurisdiction(user=user).min_age
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        AgeVerification.objects.create(
            user=locked,
            method=AgeVerificationMethod.STRIPE_IDENTITY,
            session_id=session.id,
            min_age=min_age,
        )
        # An Identity event that reached the Stripe inbox before this row waits for it.
        identity_session_created.handler(session_id=str(session.id))
        if locked.age_verification_status != AgeVerificationStatus.VERIFIED:
            locked.age_verification_status = AgeVerificationStatus.PENDING
            locked.save(update_fields=["age_verification_status"])
    user.age_verification_status = locked.age_verification_status
    return str(session.url)


# --- the webhook ------------------------------------------------------------------------


def _parse_event(*, payload: bytes, signature: str) -> dict[str, Any]:
    """Verify the Stripe-Signature header (HMAC, 5 minutes tolerance), then parse."""
    try:
        text = payload.decode("utf-8")
        stripe.WebhookSignature.verify_header(
            text, signature, _webhook_secret(), tolerance=SIGNATURE_TOLERANCE_S
        )
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError) as exc:
        raise ApplicationError(ErrorCode.INVALID_REQUEST, "Invalid webhook signature.") from exc
    try:
        event = json_loads_bounded(text)
    except InvalidJson as exc:
        raise ApplicationError(ErrorCode.INVALID_REQUEST, "Not a Stripe event.") from exc
    if (
        not isinstance(event, dict)
        or not isinstance(event.get("id"), str)
        or not isinstance(event.get("type"), str)
        or not isinstance(event.get("data"), dict)
        or not isinstance(event["data"].get("object"), dict)
    ):
        raise ApplicationError(ErrorCode.INVALID_REQUEST, "Not a Stripe event.")
    return event


def _verified_outputs(*, session_id: str) -> tuple[dt.date | None, str]:
    """Read the verified date of birth and the document address's country (network;
    never called under a row lock). Neither is stored: the date decides the age, the
    country the jurisdiction (SPEC §5)."""
    session = stripe_client(api_key=_identity_key()).v1.identity.verification_sessions.retrieve(
        session_id, params={"expand": ["verified_outputs.dob"]}
    )
    outputs = session.to_dict().get("verified_outputs") or {}
    dob = outputs.get("dob") or {}
    address = outputs.get("address") or {}
    country = str(address.get("country") or "").upper()
    if len(country) != 2 or not country.isalpha():
        country = ""
    try:
        return dt.date(int(dob["year"]), int(dob["month"]), int(dob["day"])), country
    except (KeyError, TypeError, ValueError):
        return None, country


def _record_event(*, event: dict[str, Any], session_id: str, result: str) -> bool:
    """Store the event id; False when it was already stored (a replay)."""
    try:
        with transaction.atomic():
            IdentityEvent.objects.create(
                event_id=event["id"], type=event["type"], session_id=session_id, result=result
            )
    except IntegrityError:
        return False
    return True


class IdentitySessionNotYetKnown(Exception):
    """A handled event names a session whose row is not committed yet."""

    def __init__(self, session_id: str) -> None:
        super().__init__(session_id)
        self.session_id = session_id


def identity_webhook_receive(*, payload: bytes, signature: str) -> str:
    """Handle one Identity webhook delivery; answers what happened.

    A bad signature raises 400 and stores nothing. Each event id is processed once
    (``IdentityEvent``); replays answer ``duplicate``. Events about a session in a
    final state (verified, under age, canceled) change nothing.
    """
    event = _parse_event(payload=payload, signature=signature)
    try:
        return identity_event_apply(event=event)
    except stripe.StripeError as exc:
        # Nothing stored: Stripe delivers the event again later.
        raise ApplicationError(
            ErrorCode.SERVICE_UNAVAILABLE, "Stripe could not be reached."
        ) from exc


def identity_event_apply(*, event: dict[str, Any], wait_for_session: bool = False) -> str:
    """Apply one verified Identity event once by its id; answers what happened.

    With ``wait_for_session`` (the billing inbox, which re-drives), a handled event
    about a session not known yet raises ``IdentitySessionNotYetKnown`` instead of
    being recorded as ``unknown_session``. Stripe errors propagate (nothing stored).
    """
    session = event["data"]["object"]
    session_id = str(session.get("id") or "")
    if IdentityEvent.objects.filter(event_id=event["id"]).exists():
        return "duplicate"
    verification = (
        AgeVerification.objects.filter(
            session_id=session_id, method=AgeVerificationMethod.STRIPE_IDENTITY
        )
        .select_related("user")
        .first()
        if session_id
        else None
    )
    if wait_for_session and event["type"] in HANDLED_EVENTS and verification is None and session_id:
        raise IdentitySessionNotYetKnown(session_id)
    if event["type"] not in HANDLED_EVENTS or verification is None:
        result = "ignored" if event["type"] not in HANDLED_EVENTS else "unknown_session"
        return (
            result
            if _record_event(event=event, session_id=session_id, result=result)
            else ("duplicate")
        )

    verified_dob: dt.date | None = None
    verified_country = ""
    if event["type"] == EVENT_VERIFIED:
        verified_dob, verified_country = _verified_outputs(session_id=session_id)

    with transaction.atomic():
        locked = AgeVerification.objects.select_for_update().get(pk=verification.pk)
        user = User.objects.select_for_update().get(pk=locked.user_id)
        if locked.outcome in TERMINAL_OUTCOMES:
            result = "stale"
        elif event["type"] == EVENT_VERIFIED:
            result = _apply_verified(
                verification=locked,
                user=user,
                verified_dob=verified_dob,
                verified_country=verified_country,
            )
        elif event["type"] == EVENT_REQUIRES_INPUT:
            result = _apply_failed(verification=locked, user=user)
        else:
            result = _apply_canceled(verification=locked, user=user)
        if not _record_event(event=event, session_id=session_id, result=result):
            transaction.set_rollback(True)
            return "duplicate"
    return result


def _age_snapshot(user: User) -> dict[str, Any]:
    return {
        "age_verification_status": user.age_verification_status,
        "age_verified_at": user.age_verified_at.isoformat() if user.age_verified_at else None,
    }


def _apply_verified(
    *,
    verification: AgeVerification,
    user: User,
    verified_dob: dt.date | None,
    verified_country: str = "",
) -> str:
    before = {**_age_snapshot(user), "country": user.country, "region": user.region}
    now = timezone.now()
    if verified_country and verified_country != user.country:
        # The jurisdiction follows the verified document, not the declaration; a region
        # declared for another country no longer applies.
        user.country = verified_country
        if not user.region.startswith(f"{verified_country}-"):
            user.region = ""
        user.save(update_fields=["country", "region"])
    if verified_dob is None:
        # Stripe said verified but gave no date of birth: treat as a failed check.
        verification.outcome = AgeVerificationOutcome.REQUIRES_INPUT
        verification.checked_at = now
        verification.save(update_fields=["outcome", "checked_at"])
        if user.age_verification_status != AgeVerificationStatus.VERIFIED:
            user.age_verification_status = AgeVerificationStatus.FAILED
            user.save(update_fields=["age_verification_status"])
        return "no_date_of_birth"
    min_age = user_jurisdiction(user=user).min_age
    age = age_in_zone(date_of_birth=verified_dob, time_zone=user.time_zone, now=now)
    is_old_enough = age >= min_age
    verification.outcome = (
        AgeVerificationOutcome.VERIFIED if is_old_enough else AgeVerificationOutcome.UNDER_AGE
    )
    verification.checked_at = now
    verification.min_age = min_age
    verification.save(update_fields=["outcome", "checked_at", "min_age"])
    if is_old_enough:
        user.age_verification_status = AgeVerificationStatus.VERIFIED
        user.age_verified_at = now
    else:
        user.age_verification_status = AgeVerificationStatus.FAILED
        user.age_verified_at = None
    user.save(update_fields=["age_verification_status", "age_verified_at"])
    if user.date_of_birth is not None and user.date_of_birth != verified_dob:
        AgeVerificationFlag.objects.create(
            user=user, verification=verification, reason=AgeVerificationFlag.Reason.DOB_MISMATCH
        )
    if not is_old_enough:
        AgeVerificationFlag.objects.create(
            user=user, verification=verification, reason=AgeVerificationFlag.Reason.UNDER_AGE
        )
    audit_record(
        actor=STRIPE_ACTOR,
        action="accounts.age_verification.identity",
        target=user,
        before=before,
        after={
            **_age_snapshot(user),
            "country": user.country,
            "region": user.region,
            "outcome": verification.outcome,
            "min_age": min_age,
        },
        reason=f"Stripe Identity session {verification.session_id}",
    )
    return str(verification.outcome)


def _apply_failed(*, verification: AgeVerification, user: User) -> str:
    verification.outcome = AgeVerificationOutcome.REQUIRES_INPUT
    verification.checked_at = timezone.now()
    verification.save(update_fields=["outcome", "checked_at"])
    # A later failed attempt never takes away an age that was already verified.
    if user.age_verification_status != AgeVerificationStatus.VERIFIED:
        user.age_verification_status = AgeVerificationStatus.FAILED
        user.save(update_fields=["age_verification_status"])
    return str(verification.outcome)


def _apply_canceled(*, verification: AgeVerification, user: User) -> str:
    verification.outcome = AgeVerificationOutcome.CANCELED
    verification.checked_at = timezone.now()
    verification.save(update_fields=["outcome", "checked_at"])
    still_pending = AgeVerification.objects.filter(
        user=user, outcome=AgeVerificationOutcome.PENDING
    ).exists()
    if user.age_verification_status == AgeVerificationStatus.PENDING and not still_pending:
        user.age_verification_status = AgeVerificationStatus.UNVERIFIED
        user.save(update_fields=["age_verification_status"])
    return str(verification.outcome)
