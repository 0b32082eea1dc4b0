from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accountability.models import AuditLogEntry
from billing.credits import credits_balance, credits_grant, credits_reserve
from billing.entitlements import entitlements_for
from billing.gates import gate_plan_active
from billing.models import (
    BillingReviewFlag,
    CreditLedgerEntry,
    CreditPurchase,
    Customer,
    LedgerKind,
    Plan,
    StripeEvent,
    Subscription,
)
from billing.webhooks import stripe_event_process, stripe_event_receive
from core.errors import ApplicationError, ErrorCode
from tests.billing.conftest import (
    FakeStripe,
    event,
    invoice_obj,
    new_id,
    post_event,
    signed,
    subscription_obj,
)
from tests.worker import WorkerProcess


def deliver(payload: dict[str, Any]) -> StripeEvent:
    body, header = signed(payload)
    stored, _ = stripe_event_receive(payload=body, signature=header)
    stripe_event_process(event_pk=stored.pk)
    stored.refresh_from_db()
    return stored


def test_bad_signature_is_refused_with_400_and_nothing_is_stored(
    client: Client, customer: Customer, premium: Plan
) -> None:
    payload = event("invoice.paid", invoice_obj(
        invoice_id="in_bad", customer=customer, sub_id="sub_x", price=premium.stripe_price_id
    ))  # fmt: skip
    body, header = signed(payload, secret="whsec_someone_else")
    response = client.post(
        "/billing/stripe/webhook/", data=body, content_type="application/json",
        headers={"Stripe-Signature": header},
    )  # fmt: skip
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert not StripeEvent.objects.exists()
    no_header = client.post("/billing/stripe/webhook/", data=body, content_type="application/json")
    assert no_header.status_code == 400
    assert not StripeEvent.objects.exists()


def test_a_changed_body_fails_verification(client: Client, customer: Customer) -> None:
    body, header = signed(event("charge.refunded", {"id": "ch_1"}))
    tampered = body.replace(b"ch_1", b"ch_2")
    response = client.post(
        "/billing/stripe/webhook/", data=tampered, content_type="application/json",
        headers={"Stripe-Signature": header},
    )  # fmt: skip
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


def test_an_event_is_stored_once_and_enqueued_again_only_while_unprocessed(
    client: Client, customer: Customer, premium: Plan, django_capture_on_commit_callbacks: Any
) -> None:
    payload = event("invoice.paid", invoice_obj(
        invoice_id="in_1", customer=customer, sub_id="sub_1", price=premium.stripe_price_id
    ))  # fmt: skip
    with django_capture_on_commit_callbacks() as first_callbacks:
        first = post_event(client, payload)
    # Stripe's retry after a lost enqueue: still unprocessed, so it is sent again.
    with django_capture_on_commit_callbacks() as second_callbacks:
        second = post_event(client, payload)
    stripe_event_process(event_pk=StripeEvent.objects.get().pk)
    with django_capture_on_commit_callbacks() as third_callbacks:
        third = post_event(client, payload)
    assert first.status_code == 200 and first.json() == {"received": True, "duplicate": False}
    assert second.status_code == 200 and second.json() == {"received": True, "duplicate": True}
    assert third.status_code == 200 and third.json() == {"received": True, "duplicate": True}
    assert StripeEvent.objects.count() == 1
    assert (len(first_callbacks), len(second_callbacks), len(third_callbacks)) == (1, 1, 0)
    assert credits_balance(user=customer.user).balance == premium.credits_per_period


def test_invoice_paid_delivered_twice_grants_once(customer: Customer, premium: Plan) -> None:
    invoice = invoice_obj(
        invoice_id="in_twice", customer=customer, sub_id="sub_1", price=premium.stripe_price_id
    )
    deliver(event("invoice.paid", invoice))
    deliver(event("invoice.paid", invoice))  # Stripe re-sends with a new event id
    stored = deliver(event("invoice.paid", invoice))
    assert stored.processed_at is not None
    assert credits_balance(user=customer.user).balance == premium.credits_per_period
    assert CreditLedgerEntry.objects.filter(kind=LedgerKind.GRANT).count() == 1


def test_reprocessing_a_processed_event_is_a_no_op(customer: Customer, premium: Plan) -> None:
    stored = deliver(event("invoice.paid", invoice_obj(
        invoice_id="in_r", customer=customer, sub_id="sub_1", price=premium.stripe_price_id
    )))  # fmt: skip
    assert stripe_event_process(event_pk=stored.pk) is None
    stored.refresh_from_db()
    assert stored.attempts == 1
    assert credits_balance(user=customer.user).balance == premium.credits_per_period


def test_invoice_paid_reads_the_subscription_from_the_invoice_parent(
    customer: Customer, pro: Plan
) -> None:
    invoice = invoice_obj(
        invoice_id="in_p", customer=customer, sub_id="sub_p", price=pro.stripe_price_id
    )
    invoice["parent"] = None  # a one-off invoice: no subscription, no credits
    assert deliver(event("invoice.paid", invoice)).outcome.startswith("ignored")
    assert credits_balance(user=customer.user).balance == 0


def test_subscription_period_comes_from_its_items(customer: Customer, pro: Plan) -> None:
    data = subscription_obj(sub_id="sub_items", customer=customer, price=pro.stripe_price_id)
    deliver(event("customer.subscription.created", data))
    row = Subscription.objects.get(stripe_subscription_id="sub_items")
    assert row.plan == pro and row.status == "active"
    assert row.current_period_end == dt.datetime.fromtimestamp(1_802_592_000, tz=dt.UTC)
    entitlements = entitlements_for(user=customer.user)
    assert entitlements.is_active and entitlements.plan_code == "pro"
    assert entitlements.max_side == 1024 and entitlements.max_images == 4
    assert "photoreal_humans" in entitlements.features
    assert entitlements.plan_rank == 2 and entitlements.requests_per_minute == 30


def test_a_stale_update_does_not_roll_the_subscription_back(
    customer: Customer, premium: Plan
) -> None:
    sub: dict[str, Any] = dict(sub_id="sub_stale", customer=customer, price=premium.stripe_price_id)
    deliver(event("customer.subscription.updated", subscription_obj(
        **sub, cancel_at_period_end=True), created=200))  # fmt: skip
    deliver(event("customer.subscription.updated", subscription_obj(**sub), created=100))
    assert Subscription.objects.get(stripe_subscription_id="sub_stale").cancel_at_period_end


def test_a_canceled_subscription_stays_canceled(customer: Customer, premium: Plan) -> None:
    sub: dict[str, Any] = dict(sub_id="sub_end", customer=customer, price=premium.stripe_price_id)
    deliver(event("customer.subscription.deleted", subscription_obj(
        **sub, status="canceled"), created=100))  # fmt: skip
    deliver(event("customer.subscription.updated", subscription_obj(**sub), created=100))
    assert Subscription.objects.get(stripe_subscription_id="sub_end").status == "canceled"
    with pytest.raises(ApplicationError) as error:
        gate_plan_active(entitlements=entitlements_for(user=customer.user))
    assert error.value.code == ErrorCode.SUBSCRIPTION_REQUIRED


def test_same_second_payloads_are_settled_by_asking_stripe(
    customer: Customer, premium: Plan, pro: Plan, fake_stripe: FakeStripe
) -> None:
    sub: dict[str, Any] = dict(sub_id="sub_tie", customer=customer)
    fake_stripe.objects["sub_tie"] = subscription_obj(**sub, price=pro.stripe_price_id)
    deliver(event("customer.subscription.updated", subscription_obj(
        **sub, price=pro.stripe_price_id), created=300))  # fmt: skip
    deliver(event("customer.subscription.updated", subscription_obj(
        **sub, price=premium.stripe_price_id), created=300))  # fmt: skip
    assert Subscription.objects.get(stripe_subscription_id="sub_tie").plan == pro
    assert ("GET", "/v1/subscriptions/sub_tie", {}) in fake_stripe.requests


def test_payment_failed_is_past_due_with_a_grace_period(
    customer: Customer, premium: Plan, fake_stripe: FakeStripe, settings: Any
) -> None:
    settings.BILLING_PAST_DUE_GRACE_DAYS = 3
    start = int(time.time()) - 3600
    sub: dict[str, Any] = dict(sub_id="sub_due", customer=customer, price=premium.stripe_price_id)
    deliver(event("customer.subscription.created", subscription_obj(**sub, start=start - 10)))
    fake_stripe.objects["sub_due"] = subscription_obj(
        **sub, status="past_due", start=start, end=start + 30 * 86400
    )
    invoice = invoice_obj(invoice_id="in_due", **sub)
    deliver(event("invoice.payment_failed", invoice, created=int(time.time()) + 1))
    row = Subscription.objects.get(stripe_subscription_id="sub_due")
    assert row.status == "past_due"
    entitlements = entitlements_for(user=customer.user)
    assert entitlements.is_active
    assert entitlements.grace_until == row.past_due_since + dt.timedelta(days=3)  # type: ignore[operator]
    Subscription.objects.filter(pk=row.pk).update(
        past_due_since=timezone.now() - dt.timedelta(days=3, seconds=1)
    )
    assert not entitlements_for(user=customer.user).is_active


def _pack_checkout(customer: Customer, pack: Plan, *, quantity: int = 1) -> dict[str, Any]:
    return {
        "id": new_id("cs"),
        "object": "checkout.session",
        "mode": "payment",
        "payment_status": "paid",
        "status": "complete",
        "customer": customer.stripe_customer_id,
        "client_reference_id": str(customer.user_id),
        "payment_intent": new_id("pi"),
        "amount_total": 500 * quantity,
        "currency": "eur",
        "metadata": {"plan_code": pack.code, "quantity": str(quantity)},
    }


def test_a_credit_pack_grants_once_per_checkout_session(customer: Customer, pack: Plan) -> None:
    session = _pack_checkout(customer, pack, quantity=2)
    deliver(event("checkout.session.completed", session))
    deliver(event("checkout.session.completed", session))
    assert credits_balance(user=customer.user).balance == 1000
    assert CreditPurchase.objects.get().credits == 1000


def test_a_refund_claws_back_the_refunded_share_never_below_zero(
    customer: Customer, pack: Plan
) -> None:
    session = _pack_checkout(customer, pack)
    deliver(event("checkout.session.completed", session))
    charge = {
        "id": "ch_pack",
        "object": "charge",
        "amount": 500,
        "currency": "eur",
        "payment_intent": session["payment_intent"],
        "customer": customer.stripe_customer_id,
    }
    deliver(event("charge.refunded", {**charge, "amount_refunded": 250}))
    assert credits_balance(user=customer.user).balance == 250
    credits_reserve(user=customer.user, amount=200, reference="generation:spent")
    deliver(event("charge.refunded", {**charge, "amount_refunded": 500}))
    deliver(event("charge.refunded", {**charge, "amount_refunded": 250}))  # late, older
    assert credits_balance(user=customer.user).balance == 0
    assert credits_balance(user=customer.user).reserved == 200
    purchase = CreditPurchase.objects.get()
    assert purchase.amount_refunded == 500 and purchase.credits_clawed_back == 500


def test_a_dispute_freezes_generation_and_flags_the_account(
    customer: Customer, premium: Plan, fake_stripe: FakeStripe
) -> None:
    deliver(event("customer.subscription.created", subscription_obj(
        sub_id="sub_d", customer=customer, price=premium.stripe_price_id)))  # fmt: skip
    fake_stripe.objects["ch_d"] = {
        "id": "ch_d", "object": "charge", "customer": customer.stripe_customer_id,
    }  # fmt: skip
    dispute = {"id": "dp_1", "object": "dispute", "charge": "ch_d", "amount": 1200,
               "currency": "eur", "reason": "fraudulent"}  # fmt: skip
    deliver(event("charge.dispute.created", dispute))
    deliver(event("charge.dispute.created", dispute))
    entitlements = entitlements_for(user=customer.user)
    assert entitlements.status == "active" and not entitlements.is_active
    assert entitlements.is_frozen
    assert BillingReviewFlag.objects.get().user == customer.user
    assert Subscription.objects.get().frozen_by_dispute
    assert AuditLogEntry.objects.filter(action="billing.dispute_flag").count() == 1
    with pytest.raises(ApplicationError) as error:
        gate_plan_active(entitlements=entitlements)
    assert error.value.details == {"status": "active", "reason": "payment_dispute"}


def test_an_unlinked_customer_parks_the_event_until_checkout_links_it(
    premium: Plan, user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    customer_id = new_id("cus")
    stored = deliver(event("invoice.paid", {
        "id": "in_x", "customer": customer_id, "billing_reason": "subscription_cycle",
        "parent": {"subscription_details": {"subscription": "sub_x"}},
        "lines": {"data": [{"pricing": {"price_details": {"price": premium.stripe_price_id}}}]},
    }))  # fmt: skip
    assert stored.processed_at is None and stored.claimed_at is None
    assert stored.parked_on == f"customer:{customer_id}"
    assert stored.outcome == f"waiting: customer {customer_id} is not linked to a user yet"
    assert credits_balance(user=user).balance == 0
    checkout = {
        "id": new_id("cs"), "object": "checkout.session", "mode": "subscription",
        "customer": customer_id, "client_reference_id": str(user.pk), "metadata": {},
    }  # fmt: skip
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert deliver(event("checkout.session.completed", checkout)).outcome == (
            "subscription checkout linked"
        )
    wakes = [c for c in callbacks if c.__qualname__.endswith("wake")]
    assert len(wakes) == 1
    stripe_event_process(event_pk=stored.pk)  # what the woken task does
    stored.refresh_from_db()
    assert stored.processed_at is not None and stored.parked_on == ""
    assert stored.outcome.startswith(f"granted {premium.credits_per_period} ")
    assert credits_balance(user=user).balance == premium.credits_per_period


def test_an_unlinked_customer_is_resolved_by_asking_stripe(
    premium: Plan, user: Any, fake_stripe: FakeStripe
) -> None:
    customer_id = new_id("cus")
    fake_stripe.objects[customer_id] = {
        "id": customer_id, "object": "customer", "metadata": {"user_id": str(user.pk)}
    }  # fmt: skip
    stored = deliver(event("invoice.paid", invoice_obj(
        invoice_id=new_id("in"), customer=Customer(stripe_customer_id=customer_id),
        sub_id="sub_y", price=premium.stripe_price_id, billing_reason="subscription_create",
    )))  # fmt: skip
    assert stored.processed_at is not None and stored.outcome.startswith("granted")
    assert ("GET", f"/v1/customers/{customer_id}", {}) in fake_stripe.requests
    assert Customer.objects.get(user=user).stripe_customer_id == customer_id
    assert credits_balance(user=user).balance == premium.credits_per_period


@pytest.mark.worker
def test_a_real_worker_processes_a_delivered_webhook(
    celery_worker: WorkerProcess, client: Client
) -> None:
    from tests.billing.conftest import make_user

    user = make_user()
    customer = Customer.objects.create(user=user, stripe_customer_id=new_id("cus"))
    premium = Plan.objects.get(code="premium")
    credits_grant(user=user, amount=1, reason="start", reference=new_id("grant"))
    payload = event("invoice.paid", invoice_obj(
        invoice_id=new_id("in"), customer=customer, sub_id="sub_w", price=premium.stripe_price_id
    ))  # fmt: skip
    assert post_event(client, payload).status_code == 200
    deadline = time.monotonic() + 60
    stored = StripeEvent.objects.get(stripe_event_id=payload["id"])
    while stored.processed_at is None and time.monotonic() < deadline:
        time.sleep(0.2)
        stored.refresh_from_db()
    assert stored.processed_at is not None, celery_worker.output()
    assert credits_balance(user=user).balance == 1 + premium.credits_per_period
    assert json.loads(json.dumps(stored.payload))["id"] == payload["id"]
