"""Billing services that talk to Stripe: customers, Checkout, the Portal, refunds."""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accountability.audit import audit_record
from billing.entitlements import LIVE_STATUSES
from billing.models import (
    BillingReviewFlag,
    CreditPurchase,
    Customer,
    Plan,
    PlanKind,
    StripeEvent,
    Subscription,
)
from billing.webhooks import stripe_event_enqueue
from core.errors import ApplicationError, ErrorCode
from core.site import site_url
from core.stripe_client import stripe_client

logger = logging.getLogger(__name__)

MAX_PACKS_PER_CHECKOUT = 10


def _absolute(path: str) -> str:
    return site_url(path)


def customer_get_or_create(*, user: Any) -> Customer:
    """The user's Stripe Customer, created at Stripe on first use (idempotently)."""
    existing = Customer.objects.filter(user=user).first()
    if existing is not None:
        return existing
    stripe_customer = stripe_client().v1.customers.create(
        params={"email": user.email, "metadata": {"user_id": str(user.pk)}},
        options={"idempotency_key": f"imagegate-customer-{user.pk}"},
    )
    try:
        with transaction.atomic():
            return Customer.objects.create(user=user, stripe_customer_id=stripe_customer.id)
    except IntegrityError:
        return Customer.objects.get(user=user)


def checkout_session_create(*, user: Any, plan_code: str, quantity: int = 1) -> str:
    """Start a Stripe Checkout Session for a plan or credit pack; answers its URL.

    Subscriptions use subscription mode and are refused while the user already has a
    live one (plan changes and cancellation go through the Portal); credit packs use
    payment mode. ``client_reference_id`` and metadata carry the user's id.
    """
    plan = Plan.objects.filter(code=plan_code, is_active=True).first()
    if plan is None:
        raise ApplicationError(ErrorCode.NOT_FOUND, "No such plan.")
    is_pack = plan.kind == PlanKind.CREDIT_PACK
    if not is_pack and Subscription.objects.filter(user=user, status__in=LIVE_STATUSES).exists():
        raise ApplicationError(
            ErrorCode.CONFLICT, "You already have a subscription; manage it from your account."
        )
    if not 1 <= quantity <= (MAX_PACKS_PER_CHECKOUT if is_pack else 1):
        raise ApplicationError(ErrorCode.INVALID_REQUEST, details={"quantity": ["Out of range."]})
    customer = customer_get_or_create(user=user)
    metadata = {"user_id": str(user.pk), "plan_code": plan.code, "quantity": str(quantity)}
    params: Any = {
        "mode": "payment" if is_pack else "subscription",
        "customer": customer.stripe_customer_id,
        "client_reference_id": str(user.pk),
        "line_items": [{"price": plan.stripe_price_id, "quantity": quantity}],
        "success_url": _absolute(reverse("billing:account")) + "?checkout=success",
        "cancel_url": _absolute(reverse("billing:pricing")) + "?checkout=canceled",
        "metadata": metadata,
    }
    if is_pack:
        params["payment_intent_data"] = {"metadata": metadata}
    else:
        params["subscription_data"] = {"metadata": metadata}
    session = stripe_client().v1.checkout.sessions.create(params=params)
    return str(session.url)


def portal_session_create(*, user: Any) -> str:
    """A Customer Portal session (change plan, payment method, cancel); answers its URL."""
    customer = Customer.objects.filter(user=user).first()
    if customer is None:
        raise ApplicationError(ErrorCode.NOT_FOUND, "There is no billing account yet.")
    session = stripe_client().v1.billing_portal.sessions.create(
        params={
            "customer": customer.stripe_customer_id,
            "return_url": _absolute(reverse("billing:account")),
        }
    )
    return str(session.url)


def credit_purchase_refund(*, purchase: CreditPurchase, actor: Any, reason: str) -> str:
    """Refund a credit pack in full through Stripe's Refund API (audited).

    The credits are clawed back when Stripe's ``charge.refunded`` event arrives, by the
    same rule as a refund made in Stripe's dashboard.
    """
    reason = reason.strip()
    if not reason:
        raise ApplicationError(ErrorCode.INVALID_REQUEST, details={"reason": ["Required."]})
    if not purchase.stripe_payment_intent_id:
        raise ApplicationError(ErrorCode.CONFLICT, "This purchase has no payment to refund.")
    refund = stripe_client().v1.refunds.create(
        params={
            "payment_intent": purchase.stripe_payment_intent_id,
            "reason": "requested_by_customer",
            "metadata": {"purchase_id": str(purchase.pk)},
        },
        options={"idempotency_key": f"imagegate-refund-{purchase.pk}"},
    )
    audit_record(
        actor=actor,
        action="billing.refund",
        target=purchase,
        after={"refund_id": refund.id, "status": refund.status, "amount": refund.amount},
        reason=reason,
    )
    return str(refund.id)


@transaction.atomic
def review_flag_resolve(*, flag: BillingReviewFlag, actor: Any, resolution: str) -> None:
    """Close a review flag; generation unfreezes once no open flag is left (audited)."""
    resolution = resolution.strip()
    if not resolution:
        raise ApplicationError(ErrorCode.INVALID_REQUEST, details={"resolution": ["Required."]})
    flag = BillingReviewFlag.objects.select_for_update().get(pk=flag.pk)
    if flag.resolved_at is not None:
        return
    flag.resolved_at = timezone.now()
    flag.resolved_by = actor
    flag.resolution = resolution
    flag.save(update_fields=["resolved_at", "resolved_by", "resolution"])
    if not BillingReviewFlag.objects.filter(user=flag.user, resolved_at__isnull=True).exists():
        Subscription.objects.filter(user=flag.user).update(frozen_by_dispute=False)
    audit_record(
        actor=actor,
        action="billing.review_flag_resolve",
        target=flag,
        after={"kind": flag.kind, "stripe_object_id": flag.stripe_object_id},
        reason=resolution,
    )


def stripe_event_replay(*, event: StripeEvent, actor: Any) -> None:
    """Process a stored event again (handlers are idempotent), audited."""
    with transaction.atomic():
        StripeEvent.objects.filter(pk=event.pk).update(processed_at=None, claimed_at=None, error="")
        audit_record(
            actor=actor,
            action="billing.stripe_event_replay",
            target=event,
            after={"type": event.type},
        )
        stripe_event_enqueue(event_pk=event.pk)
