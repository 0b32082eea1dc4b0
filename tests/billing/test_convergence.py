"""Duplicated and out-of-order Stripe deliveries converge to the in-order state."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.credits import credits_balance
from billing.models import CreditLedgerEntry, Customer, LedgerKind, Plan, Subscription
from billing.webhooks import stripe_event_process, stripe_event_receive
from tests.billing.conftest import (
    FakeStripe,
    event,
    invoice_obj,
    make_user,
    new_id,
    signed,
    subscription_obj,
)

P1 = (1_800_000_000, 1_802_592_000)
P2 = (1_802_592_000, 1_805_184_000)


def timeline(customer: Customer) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    """A subscription's life as Stripe would report it: (event, Stripe's truth after it)."""
    premium = Plan.objects.get(code="premium").stripe_price_id
    pro = Plan.objects.get(code="pro").stripe_price_id
    sub_id = new_id("sub")

    def sub(price: str, period: tuple[int, int], **kwargs: Any) -> dict[str, Any]:
        return subscription_obj(
            sub_id=sub_id, customer=customer, price=price, start=period[0], end=period[1], **kwargs
        )

    def inv(reason: str, price: str) -> dict[str, Any]:
        return invoice_obj(
            invoice_id=new_id("in"), customer=customer, sub_id=sub_id, price=price,
            billing_reason=reason,
        )  # fmt: skip

    s0 = sub(premium, P1, status="incomplete")
    s1 = sub(premium, P1)
    s2 = sub(pro, P1)
    s3 = sub(pro, P2)
    s4 = sub(pro, P2, cancel_at_period_end=True)
    s5 = sub(pro, P2, status="canceled", cancel_at_period_end=True)
    return [
        (event("customer.subscription.created", s0, created=100), s0),
        (event("invoice.paid", inv("subscription_create", premium), created=101), None),
        (event("customer.subscription.updated", s1, created=101), s1),
        (event("customer.subscription.updated", s2, created=200), s2),
        (event("invoice.paid", inv("subscription_cycle", pro), created=300), None),
        (event("customer.subscription.updated", s3, created=300), s3),
        # Same second as the renewal: only asking Stripe can tell which came last.
        (event("customer.subscription.updated", s4, created=300), s4),
        (event("customer.subscription.deleted", s5, created=400), s5),
    ]


def deliver_all(events: list[dict[str, Any]]) -> None:
    for payload in events:
        body, header = signed(payload)
        stored, _ = stripe_event_receive(payload=body, signature=header)
        stripe_event_process(event_pk=stored.pk)


def state_of(customer: Customer) -> tuple[Any, ...]:
    subscription = Subscription.objects.select_related("plan").get(customer=customer)
    grants = CreditLedgerEntry.objects.filter(user=customer.user, kind=LedgerKind.GRANT)
    return (
        subscription.status,
        subscription.plan.code if subscription.plan else None,
        subscription.current_period_start,
        subscription.current_period_end,
        subscription.cancel_at_period_end,
        subscription.past_due_since,
        credits_balance(user=customer.user).balance,
        sorted(grants.values_list("amount", flat=True)),
    )


def new_customer() -> Customer:
    return Customer.objects.create(user=make_user(), stripe_customer_id=new_id("cus"))


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[int, list[int]]:
    """A prefix of the timeline, then its events in any order with duplicates."""
    length = draw(st.integers(min_value=1, max_value=8))
    duplicates = draw(st.lists(st.integers(0, length - 1), max_size=6))
    order = draw(st.permutations(list(range(length)) + duplicates))
    return length, order


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=deliveries())
def test_any_order_with_duplicates_ends_like_in_order_delivery(
    case: tuple[int, list[int]], fake_stripe: FakeStripe, db: None
) -> None:
    length, order = case

    in_order = new_customer()
    steps = timeline(in_order)[:length]
    truth = [s for _, s in steps if s is not None][-1]
    fake_stripe.objects[truth["id"]] = truth
    deliver_all([payload for payload, _ in steps])

    shuffled = new_customer()
    steps = timeline(shuffled)[:length]
    truth = [s for _, s in steps if s is not None][-1]
    fake_stripe.objects[truth["id"]] = truth
    deliver_all([steps[i][0] for i in order])

    assert state_of(shuffled) == state_of(in_order)
    assert state_of(in_order)[0] == truth["status"]
