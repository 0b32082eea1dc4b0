"""No Stripe event is ignored for arriving early (issue 12, F0).

Stripe does not order its events: ``invoice.paid`` and ``customer.subscription.created``
may be processed before ``checkout.session.completed`` has linked the customer. Such
an event is parked and processed again when the link appears; the property test
delivers the trio in every order, duplicated, from concurrent threads (each with its
own PostgreSQL connection), and the subscription always ends active with its credits
granted exactly once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import User
from billing.credits import credits_balance
from billing.models import (
    CreditLedgerEntry,
    Customer,
    LedgerKind,
    Plan,
    StripeEvent,
    Subscription,
    SubscriptionStatus,
)
from billing.webhooks import stripe_event_receive
from tests.billing.conftest import FakeStripe, event, make_user, new_id, signed

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent workers need PostgreSQL"
)


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """Tasks run in the thread that enqueues them, as a worker would run them."""
    from imagegate.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = previous


def trio(user: User, premium: Plan) -> list[dict[str, Any]]:
    """Checkout (the only event naming the user), subscription and its first invoice.

    The customer was made by Checkout (no ``metadata.user_id`` at Stripe) and the
    subscription carries no metadata: only the checkout links them to the user.
    """
    customer_id, sub_id, invoice_id = new_id("cus"), new_id("sub"), new_id("in")
    checkout = {
        "id": new_id("cs"), "object": "checkout.session", "mode": "subscription",
        "customer": customer_id, "subscription": sub_id, "client_reference_id": str(user.pk),
        "payment_status": "paid", "metadata": {},
    }  # fmt: skip
    subscription = {
        "id": sub_id, "object": "subscription", "customer": customer_id, "status": "active",
        "cancel_at_period_end": False, "canceled_at": None, "ended_at": None, "metadata": {},
        "items": {"object": "list", "data": [{
            "id": f"si_{sub_id}", "object": "subscription_item",
            "price": {"id": premium.stripe_price_id, "object": "price"},
            "current_period_start": 1_800_000_000, "current_period_end": 1_802_592_000,
        }]},
    }  # fmt: skip
    invoice = {
        "id": invoice_id, "object": "invoice", "customer": customer_id, "status": "paid",
        "billing_reason": "subscription_create", "metadata": {},
        "parent": {"type": "subscription_details",
                   "subscription_details": {"subscription": sub_id, "metadata": {}}},
        "lines": {"object": "list", "data": [{
            "id": f"il_{invoice_id}",
            "pricing": {"price_details": {"price": premium.stripe_price_id}},
        }]},
    }  # fmt: skip
    return [
        event("checkout.session.completed", checkout, created=1_800_000_000),
        event("customer.subscription.created", subscription, created=1_800_000_001),
        event("invoice.paid", invoice, created=1_800_000_002),
    ]


def deliver_concurrently(deliveries: list[tuple[dict[str, Any], float]]) -> list[BaseException]:
    """Each delivery in its own thread (own connection), all released at once."""
    barrier = threading.Barrier(len(deliveries))
    errors: list[BaseException] = []

    def run(payload: dict[str, Any], delay: float) -> None:
        try:
            body, header = signed(payload)
            barrier.wait(timeout=30)
            time.sleep(delay)
            stripe_event_receive(payload=body, signature=header)
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=item) for item in deliveries]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


@st.composite
def delivery_plans(draw: st.DrawFn) -> list[tuple[int, float]]:
    """The three events in any order, some delivered twice, each after a small delay."""
    duplicates = draw(st.lists(st.integers(0, 2), max_size=3))
    order = draw(st.permutations([0, 1, 2, *duplicates]))
    delays = draw(st.lists(st.sampled_from([0.0, 0.0, 0.002, 0.01, 0.03]), min_size=len(order),
                           max_size=len(order)))  # fmt: skip
    return list(zip(order, delays, strict=True))


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=delivery_plans())
@pytest.mark.django_db(transaction=True)
def test_the_checkout_trio_in_any_order_activates_the_plan_and_grants_once(
    plan: list[tuple[int, float]], fake_stripe: FakeStripe, eager_tasks: None
) -> None:
    premium = Plan.objects.get(code="premium")
    user = make_user()
    events = trio(user, premium)

    errors = deliver_concurrently([(events[index], delay) for index, delay in plan])

    assert errors == []
    stored = StripeEvent.objects.filter(stripe_event_id__in=[e["id"] for e in events])
    assert sorted((e.type, e.processed_at is not None, e.parked_on) for e in stored) == [
        ("checkout.session.completed", True, ""),
        ("customer.subscription.created", True, ""),
        ("invoice.paid", True, ""),
    ]
    subscription = Subscription.objects.get(user=user)
    assert (subscription.status, subscription.plan) == (SubscriptionStatus.ACTIVE, premium)
    assert (
        Customer.objects.get(user=user).stripe_customer_id
        == events[0]["data"]["object"]["customer"]
    )
    grants = CreditLedgerEntry.objects.filter(user=user, kind=LedgerKind.GRANT)
    invoice_id = events[2]["data"]["object"]["id"]
    assert list(grants.values_list("reference", "amount")) == [
        (f"invoice:{invoice_id}", premium.credits_per_period)
    ]
    assert credits_balance(user=user).balance == premium.credits_per_period
