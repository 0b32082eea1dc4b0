from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from billing.credits import credits_balance
from billing.entitlements import entitlements_for
from billing.models import Customer, Plan, StripeEvent, Subscription
from billing.services import checkout_session_create, portal_session_create
from billing.webhooks import stripe_event_process
from core.errors import ApplicationError, ErrorCode
from tests.billing.conftest import FakeStripe


def process_all() -> None:
    for pk in (
        StripeEvent.objects.filter(processed_at__isnull=True)
        .order_by("id")
        .values_list("pk", flat=True)
    ):
        stripe_event_process(event_pk=pk)


def test_subscription_checkout_goes_through_stripe_with_the_user_as_reference(
    user: User, premium: Plan, fake_stripe: FakeStripe
) -> None:
    url = checkout_session_create(user=user, plan_code="premium")
    assert url.startswith("https://checkout.stripe.test/")
    (m1, path1, customer_params), (m2, path2, params) = fake_stripe.requests
    assert (m1, path1) == ("POST", "/v1/customers")
    assert customer_params["metadata"] == {"user_id": str(user.pk)}
    assert (m2, path2) == ("POST", "/v1/checkout/sessions")
    assert params["mode"] == "subscription"
    assert params["client_reference_id"] == str(user.pk)
    assert params["line_items"] == [{"price": premium.stripe_price_id, "quantity": "1"}]
    assert params["subscription_data"]["metadata"]["user_id"] == str(user.pk)
    assert Customer.objects.get(user=user).stripe_customer_id == params["customer"]


def test_credit_pack_checkout_uses_payment_mode(
    user: User, pack: Plan, fake_stripe: FakeStripe
) -> None:
    checkout_session_create(user=user, plan_code=pack.code, quantity=3)
    params = fake_stripe.requests[-1][2]
    assert params["mode"] == "payment"
    assert params["line_items"] == [{"price": pack.stripe_price_id, "quantity": "3"}]
    assert params["payment_intent_data"]["metadata"]["plan_code"] == pack.code


def test_a_second_subscription_is_refused_while_one_is_live(
    customer: Customer, premium: Plan, fake_stripe: FakeStripe
) -> None:
    Subscription.objects.create(
        stripe_subscription_id="sub_live", user=customer.user, customer=customer,
        plan=premium, status="active",
    )  # fmt: skip
    with pytest.raises(ApplicationError) as error:
        checkout_session_create(user=customer.user, plan_code="pro")
    assert error.value.code == ErrorCode.CONFLICT
    assert fake_stripe.requests == []


def test_portal_session_goes_through_stripe(customer: Customer, fake_stripe: FakeStripe) -> None:
    url = portal_session_create(user=customer.user)
    assert url == "https://billing.stripe.test/p/session"
    method, path, params = fake_stripe.requests[0]
    assert (method, path) == ("POST", "/v1/billing_portal/sessions")
    assert params["customer"] == customer.stripe_customer_id


def test_pricing_is_public(client: Client, db: None) -> None:
    response = client.get("/pricing/")
    assert response.status_code == 200
    assert b"Premium" in response.content and b"Pro" in response.content


def test_billing_page_needs_login(client: Client, db: None) -> None:
    response = client.get("/billing/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_offline_journey_subscribe_buy_credits_and_cancel(
    client: Client, user: User, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """SPEC §10: a make-run user pays on the stand-in pages; signed events do the rest."""
    settings.STRIPE_OFFLINE = True
    client.force_login(user)

    response = client.post("/billing/checkout/premium/")
    assert response.status_code == 302
    checkout_path = response["Location"].removeprefix(settings.SITE_URL)
    assert checkout_path.startswith("/billing/offline/checkout/cs_off_")
    assert client.get(checkout_path).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        client.post(checkout_path, {"outcome": "pay"})
    process_all()
    entitlements = entitlements_for(user=user)
    assert entitlements.is_active and entitlements.plan_code == "premium"
    assert credits_balance(user=user).balance == 1000

    response = client.post("/billing/checkout/credits-500/", {"quantity": "2"})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(response["Location"].removeprefix(settings.SITE_URL), {"outcome": "pay"})
    process_all()
    assert credits_balance(user=user).balance == 2000

    page = client.get("/billing/")
    assert b"Premium" in page.content and b"2000" in page.content

    response = client.post("/billing/portal/")
    portal_path = response["Location"].removeprefix(settings.SITE_URL)
    assert portal_path.startswith("/billing/offline/portal/")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(portal_path, {"action": "cancel"})
    process_all()
    subscription = Subscription.objects.get(user=user)
    assert subscription.cancel_at_period_end and subscription.status == "active"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(portal_path, {"action": "cancel_now"})
    process_all()
    assert not entitlements_for(user=user).is_active
    assert entitlements_for(user=user).status == "canceled"
    assert not StripeEvent.objects.exclude(error="").exists()


def test_offline_pages_are_gone_with_a_real_stripe_key(
    client: Client, user: User, settings: Any
) -> None:
    settings.STRIPE_OFFLINE = False
    client.force_login(user)
    assert client.get("/billing/offline/checkout/cs_off_x/").status_code == 404
    assert client.get("/billing/offline/portal/?session=x").status_code == 404


def test_another_users_offline_checkout_is_not_found(
    client: Client, user: User, settings: Any
) -> None:
    from tests.billing.conftest import make_user

    settings.STRIPE_OFFLINE = True
    client.force_login(user)
    path = client.post("/billing/checkout/premium/")["Location"].removeprefix(settings.SITE_URL)
    client.force_login(make_user())
    assert client.get(path).status_code == 404
    assert client.post(path, {"outcome": "pay"}).status_code == 404
