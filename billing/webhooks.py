"""Stripe webhooks: verify and store each event once, then process it in a task.

Rules (docs/billing.md has the long form):

* A delivery whose signature does not verify is refused (400) and nothing is stored.
* Each event is stored once by its Stripe id and answered 200 once the row is
  committed. Processing runs in ``billing.process_stripe_event``, which claims the
  row with a conditional update and is a no-op when re-run; so every delivery of an
  event not processed yet enqueues it again, and a failed enqueue only logs: the
  periodic re-drive (``billing.redrive``) sends whatever is left unprocessed.
* An event that arrives before what it needs (its customer not linked yet) first
  asks Stripe; failing that it is parked, unprocessed, and processed again when the
  link appears. It is never recorded as ignored for arriving early.
* Identity events delivered here are handled by ``accounts.identity``, once per id.
* Handlers are idempotent, so a replay is always safe: credit grants are unique per
  invoice or checkout session, subscription payloads older than the one applied
  are ignored (Stripe's event ``created``), a canceled subscription stays canceled,
  and two payloads with the same timestamp are settled by asking Stripe for the
  subscription as it is now.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import uuid
from collections.abc import Callable
from typing import Any

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from accountability.audit import audit_record
from accounts.identity import IdentitySessionNotYetKnown, identity_event_apply
from accounts.models import User
from billing.credits import credits_adjust, credits_grant
from billing.models import (
    BillingReviewFlag,
    CreditPurchase,
    Customer,
    Plan,
    PlanKind,
    ReviewFlagKind,
    StripeEvent,
    Subscription,
    SubscriptionStatus,
)
from billing.redrive import (
    EventParked,
    backoff,
    claim_expiry,
    link_exists,
    stripe_event_release,
    stripe_events_wake,
)
from billing.redrive import stripe_event_enqueue as stripe_event_enqueue
from core.errors import ApplicationError, ErrorCode
from core.stripe_client import stripe_client

logger = logging.getLogger(__name__)

STRIPE_ACTOR = "stripe webhook"
# Billing reasons whose paid invoice starts a new period and so grants its credits.
GRANTING_BILLING_REASONS = frozenset({"subscription_create", "subscription_cycle"})


class IgnoredEvent(Exception):
    """The event is valid but there is nothing for us to do (recorded as the outcome)."""


# --- Receiving ---------------------------------------------------------------------


def stripe_event_receive(*, payload: bytes, signature: str) -> tuple[StripeEvent, bool]:
    """Verify a delivery and store it once; answers the row and whether it was new.

    Raises 400 ``invalid_request`` (storing nothing) when the signature, its
    timestamp or the body is not valid. Every delivery of an event that is not
    processed yet enqueues it (the task's claim makes extra messages no-ops), so
    Stripe's retry after a lost enqueue sends it again.
    """
    try:
        stripe.Webhook.construct_event(payload, signature, settings.STRIPE_WEBHOOK_SECRET)
        data = json.loads(payload)
        event_id = str(data["id"])
        event_type = str(data["type"])
        created = int(data["created"])
        if not isinstance(data["data"]["object"], dict):
            raise ValueError("The event carries no object.")
    except stripe.SignatureVerificationError as exc:
        raise ApplicationError(
            ErrorCode.INVALID_REQUEST, "The Stripe signature is not valid."
        ) from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise ApplicationError(ErrorCode.INVALID_REQUEST, "The event is not valid.") from exc
    with transaction.atomic():
        event, created_now = StripeEvent.objects.get_or_create(
            stripe_event_id=event_id,
            defaults={"type": event_type, "created": created, "payload": data},
        )
        if created_now or event.processed_at is None:
            stripe_event_enqueue(event_pk=event.pk)
    return event, created_now


# --- Processing --------------------------------------------------------------------


def stripe_event_process(*, event_pk: int) -> str | None:
    """Claim and handle one stored event; a no-op when it is processed or claimed.

    Answers the outcome, or ``None`` when there was nothing to claim. A claim older
    than ``STRIPE_EVENT_CLAIM_SECONDS`` (its worker died) may be taken over. An
    exception is recorded on the row (``error``) and the claim dropped, on a fresh
    connection when the database connection was the failure, so a retry, the
    re-drive or a replay runs the handler again. An event that must wait for a link
    is parked; when the link turns out to be there already it is processed at once.
    """
    outcome, parked_on = _process_once(event_pk=event_pk)
    for _ in range(3):
        if not parked_on or not link_exists(parked_on):
            break
        outcome, parked_on = _process_once(event_pk=event_pk)
    return outcome


def _process_once(*, event_pk: int) -> tuple[str | None, str]:
    now = timezone.now()
    claimed = (
        StripeEvent.objects.filter(pk=event_pk, processed_at__isnull=True)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - claim_expiry()))
        .update(claimed_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return None, ""
    attempts, label = 1, str(event_pk)
    try:
        event = StripeEvent.objects.get(pk=event_pk)
        attempts, label = event.attempts, event.stripe_event_id
        handler = HANDLERS.get(event.type)
        try:
            outcome = handler(event) if handler else "ignored: not a handled type"
        except IgnoredEvent as exc:
            outcome = f"ignored: {exc}"
        StripeEvent.objects.filter(pk=event_pk).update(
            processed_at=timezone.now(), outcome=outcome[:200], error="", parked_on=""
        )
    except EventParked as exc:
        waiting = f"waiting: {exc}"
        stripe_event_release(
            event_pk=event_pk,
            parked_on=exc.key,
            outcome=waiting[:200],
            redrive_after=now + backoff(attempts=attempts),
        )
        return waiting, exc.key
    except Exception as exc:
        logger.exception("Stripe event %s failed", label)
        stripe_event_release(
            event_pk=event_pk,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            redrive_after=now + backoff(attempts=attempts),
        )
        raise
    return outcome, ""


def _object(event: StripeEvent) -> dict[str, Any]:
    return dict(event.payload["data"]["object"])


def _id(value: Any) -> str | None:
    """An id field that may be a string or an expanded object."""
    if isinstance(value, dict):
        value = value.get("id")
    return str(value) if value else None


def _timestamp(value: Any) -> dt.datetime | None:
    if value in (None, ""):
        return None
    return dt.datetime.fromtimestamp(int(value), tz=dt.UTC)


def _user_from_metadata(metadata: dict[str, Any] | None) -> Any:
    user_id = (metadata or {}).get("user_id")
    if not user_id:
        return None
    try:
        return User.objects.filter(pk=uuid.UUID(str(user_id))).first()
    except ValueError:
        return None


def _stripe_customer_metadata(stripe_customer_id: str) -> dict[str, Any]:
    """Ask Stripe: customers we create carry ``metadata.user_id``."""
    try:
        found = stripe_client().v1.customers.retrieve(stripe_customer_id)
    except stripe.InvalidRequestError:
        return {}
    data = found.to_dict()
    return {} if data.get("deleted") else dict(data.get("metadata") or {})


def _user_for_customer(stripe_customer_id: str | None, metadata: dict[str, Any]) -> Any:
    """The user behind a Stripe customer; links it from ``metadata.user_id`` if new.

    Not linked yet and no ``user_id`` on the event: asks Stripe for the customer's
    metadata, and failing that parks the event until the customer is linked (by
    ``checkout.session.completed``, which names the user).
    """
    if stripe_customer_id:
        customer = (
            Customer.objects.select_related("user")
            .filter(stripe_customer_id=stripe_customer_id)
            .first()
        )
        if customer is not None:
            return customer.user
    user = _user_from_metadata(metadata)
    if user is None and stripe_customer_id:
        user = _user_from_metadata(_stripe_customer_metadata(stripe_customer_id))
    if user is None:
        if stripe_customer_id:
            raise EventParked(
                f"customer:{stripe_customer_id}",
                f"customer {stripe_customer_id} is not linked to a user yet",
            )
        raise IgnoredEvent("no customer and no user on the event")
    if stripe_customer_id:
        _link_customer(user=user, stripe_customer_id=stripe_customer_id)
    return user


def _link_customer(*, user: Any, stripe_customer_id: str) -> None:
    """Link a Stripe customer to a user once; wakes the events parked on it."""
    try:
        with transaction.atomic():
            _customer, created = Customer.objects.get_or_create(
                user=user, defaults={"stripe_customer_id": stripe_customer_id}
            )
            if created:
                stripe_events_wake(key=f"customer:{stripe_customer_id}")
    except IntegrityError:
        logger.warning("Stripe customer %s already belongs to another user", stripe_customer_id)


# --- Subscriptions -----------------------------------------------------------------


def _first_item(data: dict[str, Any]) -> dict[str, Any]:
    items = (data.get("items") or {}).get("data") or []
    return dict(items[0]) if items else {}


def _snapshot(data: dict[str, Any]) -> tuple[Any, ...]:
    item = _first_item(data)
    return (
        data.get("status"),
        _id(item.get("price")),
        item.get("current_period_start"),
        item.get("current_period_end"),
        bool(data.get("cancel_at_period_end")),
    )


def _row_snapshot(row: Subscription) -> tuple[Any, ...]:
    def seconds(value: dt.datetime | None) -> int | None:
        return int(value.timestamp()) if value else None

    return (
        row.status,
        row.plan.stripe_price_id if row.plan else None,
        seconds(row.current_period_start),
        seconds(row.current_period_end),
        row.cancel_at_period_end,
    )


def subscription_fetch(*, stripe_subscription_id: str) -> dict[str, Any]:
    subscription = stripe_client().v1.subscriptions.retrieve(stripe_subscription_id)
    return dict(subscription.to_dict())


def subscription_apply(
    *, data: dict[str, Any], event_created: int, allow_fetch: bool = True
) -> Subscription | None:
    """Mirror a Stripe Subscription payload, ignoring anything older than the row.

    Period dates come from the subscription item (API 2025-03-31 and later). A payload
    as old as the applied one but different is settled by fetching the subscription
    from Stripe (before any lock is taken).
    """
    stripe_id = str(data["id"])
    existing = (
        Subscription.objects.select_related("plan").filter(stripe_subscription_id=stripe_id).first()
    )
    if (
        existing is not None
        and existing.status == SubscriptionStatus.CANCELED
        and data.get("status") != SubscriptionStatus.CANCELED
    ):
        return existing  # canceled is final at Stripe: anything else is an older payload
    if (
        allow_fetch
        and existing is not None
        and existing.last_event_created == event_created
        and _row_snapshot(existing) != _snapshot(data)
    ):
        try:
            data = subscription_fetch(stripe_subscription_id=stripe_id)
        except stripe.InvalidRequestError:
            logger.warning("Subscription %s not found at Stripe; using the payload", stripe_id)
    user = _user_for_customer(_id(data.get("customer")), data.get("metadata") or {})
    customer = Customer.objects.filter(user=user).first()
    if customer is None:
        raise IgnoredEvent("no customer row for the subscription's user")
    item = _first_item(data)
    price_id = _id(item.get("price"))
    plan = Plan.objects.filter(stripe_price_id=price_id).first() if price_id else None
    status = str(data.get("status") or SubscriptionStatus.INCOMPLETE)
    period_start = _timestamp(item.get("current_period_start"))
    with transaction.atomic():
        row = (
            Subscription.objects.select_for_update()
            .filter(stripe_subscription_id=stripe_id)
            .first()
        )
        if row is None:
            try:
                with transaction.atomic():
                    row = Subscription.objects.create(
                        stripe_subscription_id=stripe_id,
                        user=user,
                        customer=customer,
                        status=status,
                        last_event_created=-1,
                    )
            except IntegrityError:
                pass
            row = Subscription.objects.select_for_update().get(stripe_subscription_id=stripe_id)
        if row.status == SubscriptionStatus.CANCELED and status != SubscriptionStatus.CANCELED:
            return row  # canceled is final at Stripe: anything else is an older payload
        if event_created < row.last_event_created:
            return row
        # Grace runs from the start of the unpaid period (when payment was due), kept
        # while the subscription stays past due, so it is the same whatever the order.
        past_due_since = None
        if status == SubscriptionStatus.PAST_DUE:
            past_due_since = period_start or timezone.now()
            if row.status == SubscriptionStatus.PAST_DUE and row.past_due_since:
                past_due_since = min(row.past_due_since, past_due_since)
        row.plan = plan
        row.status = status
        row.current_period_start = period_start
        row.current_period_end = _timestamp(item.get("current_period_end"))
        row.cancel_at_period_end = bool(data.get("cancel_at_period_end"))
        row.canceled_at = _timestamp(data.get("canceled_at"))
        row.ended_at = _timestamp(data.get("ended_at"))
        row.past_due_since = past_due_since
        row.last_event_created = event_created
        if BillingReviewFlag.objects.filter(user=user, resolved_at__isnull=True).exists():
            row.frozen_by_dispute = True
        row.save()
        return row


def handle_subscription_event(event: StripeEvent) -> str:
    row = subscription_apply(data=_object(event), event_created=event.created)
    return f"subscription {row.status if row else '?'}"


def _invoice_metadata(invoice: dict[str, Any]) -> dict[str, Any]:
    """The invoice's metadata over its subscription's (copied there at finalisation)."""
    parent = invoice.get("parent") or {}
    details = parent.get("subscription_details") or {}
    return {**(details.get("metadata") or {}), **(invoice.get("metadata") or {})}


def _invoice_subscription_id(invoice: dict[str, Any]) -> str | None:
    parent = invoice.get("parent") or {}
    details = parent.get("subscription_details") or {}
    # API 2025-03-31 moved it under parent; older payloads carried invoice.subscription.
    return _id(details.get("subscription")) or _id(invoice.get("subscription"))


def _invoice_plan(invoice: dict[str, Any]) -> Plan | None:
    for line in (invoice.get("lines") or {}).get("data") or []:
        pricing = line.get("pricing") or {}
        price_id = _id((pricing.get("price_details") or {}).get("price")) or _id(line.get("price"))
        if price_id:
            plan = Plan.objects.filter(stripe_price_id=price_id, kind=PlanKind.SUBSCRIPTION).first()
            if plan is not None:
                return plan
    return None


def handle_invoice_paid(event: StripeEvent) -> str:
    """A paid subscription invoice that opens a period grants its credits once."""
    invoice = _object(event)
    if not _invoice_subscription_id(invoice):
        raise IgnoredEvent("not a subscription invoice")
    billing_reason = invoice.get("billing_reason")
    if billing_reason not in GRANTING_BILLING_REASONS:
        raise IgnoredEvent(f"billing reason {billing_reason} grants no credits")
    plan = _invoice_plan(invoice)
    if plan is None:
        raise IgnoredEvent("no known plan on the invoice")
    user = _user_for_customer(_id(invoice.get("customer")), _invoice_metadata(invoice))
    entry = credits_grant(
        user=user,
        amount=plan.credits_per_period,
        reason=f"{plan.name}: credits for the period ({billing_reason})",
        reference=f"invoice:{invoice['id']}",
    )
    return f"granted {entry.amount} (entry {entry.pk})"


def handle_invoice_payment_failed(event: StripeEvent) -> str:
    """The subscription is past due: mirror its state as Stripe has it now."""
    invoice = _object(event)
    subscription_id = _invoice_subscription_id(invoice)
    if not subscription_id:
        raise IgnoredEvent("not a subscription invoice")
    data = subscription_fetch(stripe_subscription_id=subscription_id)
    row = subscription_apply(data=data, event_created=event.created, allow_fetch=False)
    return f"subscription {row.status if row else '?'}"


# --- Credit packs, refunds and disputes ----------------------------------------------


def handle_checkout_completed(event: StripeEvent) -> str:
    """Link the customer; a paid credit-pack session grants its credits once."""
    session = _object(event)
    metadata = session.get("metadata") or {}
    user_id = session.get("client_reference_id") or metadata.get("user_id")
    try:
        user = User.objects.filter(pk=uuid.UUID(str(user_id))).first() if user_id else None
    except ValueError:
        user = None
    if user is None:
        raise IgnoredEvent("no user for client_reference_id")
    customer_id = _id(session.get("customer"))
    if customer_id:
        _link_customer(user=user, stripe_customer_id=customer_id)
    if session.get("mode") != "payment":
        return "subscription checkout linked"
    if session.get("payment_status") != "paid":
        raise IgnoredEvent(f"payment status {session.get('payment_status')}")
    plan = Plan.objects.filter(code=metadata.get("plan_code"), kind=PlanKind.CREDIT_PACK).first()
    if plan is None:
        raise IgnoredEvent("no credit pack in the session's metadata")
    quantity = max(1, int(metadata.get("quantity") or 1))
    credits = plan.credits_per_period * quantity
    with transaction.atomic():
        CreditPurchase.objects.get_or_create(
            stripe_checkout_session_id=session["id"],
            defaults={
                "user": user,
                "plan": plan,
                "stripe_payment_intent_id": _id(session.get("payment_intent")) or "",
                "credits": credits,
                "amount_total": int(session.get("amount_total") or 0),
                "currency": str(session.get("currency") or ""),
            },
        )
        entry = credits_grant(
            user=user,
            amount=credits,
            reason=f"{plan.name} × {quantity}",
            reference=f"checkout:{session['id']}",
        )
    return f"granted {entry.amount} (entry {entry.pk})"


def handle_charge_refunded(event: StripeEvent) -> str:
    """Refunded credit packs lose the refunded share of their credits.

    The share is ``ceil(credits · amount_refunded / amount)``, cumulative over partial
    refunds; what is already spent or reserved is not taken back (the balance never
    goes negative), and the shortfall is written in the ledger entry's reason.
    Subscription refunds take nothing back automatically.
    """
    charge = _object(event)
    payment_intent = _id(charge.get("payment_intent"))
    if not payment_intent:
        raise IgnoredEvent("charge has no payment intent")
    with transaction.atomic():
        purchase = (
            CreditPurchase.objects.select_for_update()
            .filter(stripe_payment_intent_id=payment_intent)
            .first()
        )
        if purchase is None:
            raise IgnoredEvent("not a credit-pack payment")
        amount = int(charge.get("amount") or 0)
        refunded = int(charge.get("amount_refunded") or 0)
        if amount <= 0 or refunded <= purchase.amount_refunded:
            return "nothing new refunded"
        target = min(purchase.credits, math.ceil(purchase.credits * refunded / amount))
        to_take = target - purchase.credits_clawed_back
        purchase.amount_refunded = refunded
        purchase.credits_clawed_back = max(purchase.credits_clawed_back, target)
        purchase.save(update_fields=["amount_refunded", "credits_clawed_back"])
        if to_take <= 0:
            return "nothing to claw back"
        entry = credits_adjust(
            user=purchase.user,
            amount=-to_take,
            reason=(
                f"Refund of {refunded}/{amount} {charge.get('currency', '')} on {charge['id']}: "
                f"{to_take} credits taken back (never below zero)"
            ),
            actor=STRIPE_ACTOR,
            reference=f"refund:{charge['id']}:{refunded}",
            clamp=True,
        )
    return f"clawed back {-entry.amount if entry else 0} of {to_take}"


def handle_dispute_created(event: StripeEvent) -> str:
    """A dispute freezes generation and flags the account for billing review."""
    dispute = _object(event)
    charge = dispute.get("charge")
    if not isinstance(charge, dict):
        charge_id = _id(charge)
        if not charge_id:
            raise IgnoredEvent("dispute without a charge")
        charge = dict(stripe_client().v1.charges.retrieve(charge_id).to_dict())
    user = _user_for_customer(_id(charge.get("customer")), charge.get("metadata") or {})
    with transaction.atomic():
        flag, created = BillingReviewFlag.objects.get_or_create(
            stripe_object_id=str(dispute["id"]),
            defaults={
                "user": user,
                "kind": ReviewFlagKind.DISPUTE,
                "details": {
                    "charge": charge.get("id"),
                    "amount": dispute.get("amount"),
                    "currency": dispute.get("currency"),
                    "reason": dispute.get("reason"),
                },
            },
        )
        if created:
            Subscription.objects.filter(user=user).update(frozen_by_dispute=True)
            audit_record(
                actor=STRIPE_ACTOR,
                action="billing.dispute_flag",
                target=flag,
                after={"user": str(user.pk), "charge": charge.get("id"), "frozen": True},
                reason=f"Stripe dispute {dispute['id']} ({dispute.get('reason', '')})",
            )
    return "account frozen and flagged" if created else "already flagged"


def handle_identity_event(event: StripeEvent) -> str:
    """An Identity event delivered to this inbox: the same handling as the Identity
    webhook (each event id once, across both endpoints); a session whose row is not
    committed yet parks the event until ``age_verification_start`` commits it."""
    try:
        return f"identity: {identity_event_apply(event=event.payload, wait_for_session=True)}"
    except IdentitySessionNotYetKnown as exc:
        raise EventParked(
            f"identity_session:{exc.session_id}",
            f"identity session {exc.session_id} is not known yet",
        ) from exc


HANDLERS: dict[str, Callable[[StripeEvent], str]] = {
    "checkout.session.completed": handle_checkout_completed,
    "customer.subscription.created": handle_subscription_event,
    "customer.subscription.updated": handle_subscription_event,
    "customer.subscription.deleted": handle_subscription_event,
    "invoice.paid": handle_invoice_paid,
    "invoice.payment_failed": handle_invoice_payment_failed,
    "charge.refunded": handle_charge_refunded,
    "charge.dispute.created": handle_dispute_created,
    "identity.verification_session.verified": handle_identity_event,
    "identity.verification_session.requires_input": handle_identity_event,
    "identity.verification_session.canceled": handle_identity_event,
}
