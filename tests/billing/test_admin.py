"""The billing back office: billing models only, no prompts, images or moderation data."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.apps import apps
from django.contrib.auth.models import Group
from django.test import Client

from accountability.models import AuditLogEntry
from accounts.models import User
from billing.credits import credits_balance
from billing.models import CreditAccount, CreditPurchase, Customer, Plan, StripeEvent
from tests.billing.conftest import FakeStripe, make_user

SECRET = "JBSWY3DPEHPK3PXP"
FORBIDDEN_APPS = ("generation", "moderation", "accountability", "console")


@pytest.fixture
def billing_admin(db: None) -> User:
    admin_user = make_user(is_staff=True)
    admin_user.groups.add(Group.objects.get(name="billing_admins"))
    TOTP.activate(admin_user, SECRET)
    return admin_user


@pytest.fixture
def admin_client(client: Client, billing_admin: User) -> Client:
    client.force_login(billing_admin)
    return client


def test_billing_admins_hold_only_billing_permissions(db: None) -> None:
    group = Group.objects.get(name="billing_admins")
    labels = set(group.permissions.values_list("content_type__app_label", flat=True))
    assert labels == {"billing"}
    codenames = set(group.permissions.values_list("codename", flat=True))
    assert {"adjust_credits", "refund_creditpurchase", "replay_stripeevent"} <= codenames
    assert "delete_creditledgerentry" not in codenames


def test_billing_admin_index_lists_only_billing_models(admin_client: Client) -> None:
    response = admin_client.get("/admin/")
    assert response.status_code == 200
    listed = {app["app_label"] for app in response.context["app_list"]}
    assert listed == {"billing"}


@pytest.mark.parametrize("app_label", FORBIDDEN_APPS)
def test_billing_admin_cannot_open_generation_moderation_or_accountability(
    admin_client: Client, app_label: str
) -> None:
    assert admin_client.get(f"/admin/{app_label}/").status_code in (403, 404)
    if not apps.is_installed(app_label):
        return
    for model in apps.get_app_config(app_label).get_models():
        url = f"/admin/{app_label}/{model._meta.model_name}/"
        assert admin_client.get(url).status_code in (403, 404), url


def test_ledger_is_read_only_in_admin(admin_client: Client) -> None:
    assert admin_client.get("/admin/billing/creditledgerentry/").status_code == 200
    assert admin_client.get("/admin/billing/creditledgerentry/add/").status_code == 403


def test_adjustment_action_requires_a_reason_and_is_audited(
    admin_client: Client, billing_admin: User, user: User
) -> None:
    account = CreditAccount.objects.create(user=user)
    url = "/admin/billing/creditaccount/"
    base = {"action": "adjust_credits", "_selected_action": [account.pk]}
    page = admin_client.post(url, base)
    assert page.status_code == 200 and b"reason" in page.content
    admin_client.post(url, {**base, "apply": "1", "amount": "25", "reason": ""})
    assert credits_balance(user=user).balance == 0
    admin_client.post(url, {**base, "apply": "1", "amount": "25", "reason": "goodwill"})
    assert credits_balance(user=user).balance == 25
    audit = AuditLogEntry.objects.get(action="billing.credits_adjust")
    assert audit.actor_id == billing_admin.pk and audit.reason == "goodwill"


def test_refund_action_calls_stripes_refund_api_and_is_audited(
    admin_client: Client, customer: Customer, pack: Plan, fake_stripe: FakeStripe
) -> None:
    purchase = CreditPurchase.objects.create(
        user=customer.user, plan=pack, stripe_checkout_session_id="cs_1",
        stripe_payment_intent_id="pi_1", credits=500, amount_total=500, currency="eur",
    )  # fmt: skip
    admin_client.post(
        "/admin/billing/creditpurchase/",
        {"action": "refund", "_selected_action": [purchase.pk], "apply": "1", "reason": "asked"},
    )
    method, path, params = fake_stripe.requests[-1]
    assert (method, path) == ("POST", "/v1/refunds")
    assert params["payment_intent"] == "pi_1"
    assert AuditLogEntry.objects.filter(action="billing.refund", reason="asked").exists()


def test_replay_action_reprocesses_an_event(
    admin_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    stored = StripeEvent.objects.create(
        stripe_event_id="evt_1", type="ping", created=1, payload={"data": {"object": {}}},
        error="boom",
    )  # fmt: skip
    with django_capture_on_commit_callbacks() as callbacks:
        admin_client.post(
            "/admin/billing/stripeevent/", {"action": "replay", "_selected_action": [stored.pk]}
        )
    stored.refresh_from_db()
    assert stored.error == "" and len(callbacks) == 1
    assert AuditLogEntry.objects.filter(action="billing.stripe_event_replay").exists()
