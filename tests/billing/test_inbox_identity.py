"""Identity events delivered to the billing inbox are handled, never acknowledged and
dropped (SPEC §9: one inbox for billing and Identity alike)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
import stripe
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import AgeVerification, IdentityEvent, User
from billing.models import StripeEvent
from billing.webhooks import stripe_event_process, stripe_event_receive
from core.stripe_client import stripe_transport_override
from tests.accounts.conftest import IDENTITY_KEY, SECRET_KEY, STRIPE_TEST_BASE
from tests.accounts.conftest import FakeStripe as IdentityStripe
from tests.accounts.factories import UserFactory
from tests.billing.conftest import event, post_event, signed

VERIFIED = "identity.verification_session.verified"
IDENTITY_WEBHOOK = "/accounts/stripe/identity-webhook/"


@pytest.fixture
def identity_stripe(settings: Any) -> Iterator[IdentityStripe]:
    settings.STRIPE_OFFLINE = False
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_IDENTITY_KEY = IDENTITY_KEY
    settings.STRIPE_API_BASE = STRIPE_TEST_BASE
    fake = IdentityStripe()
    with stripe_transport_override(fake):
        yield fake


def _start(user: User) -> str:
    api = APIClient()
    api.force_authenticate(user)
    response = api.post("/api/v1/age-verification")
    assert response.status_code == 200, response.content
    return str(AgeVerification.objects.get(user=user).session_id)


def _session(session_id: str) -> dict[str, Any]:
    return {"id": session_id, "object": "identity.verification_session", "status": "verified"}


@pytest.mark.django_db
def test_an_identity_event_at_the_billing_webhook_verifies_the_adult_once(
    client: Client, identity_stripe: IdentityStripe, django_capture_on_commit_callbacks: Any
) -> None:
    user = UserFactory.create(date_of_birth=dt.date(1990, 5, 17))
    session_id = _start(user)
    identity_stripe.settle(session_id, "verified", dob=(1990, 5, 17))
    payload = event(VERIFIED, _session(session_id))
    with django_capture_on_commit_callbacks(execute=False):
        response = post_event(client, payload)
    assert response.status_code == 200
    stored = StripeEvent.objects.get(stripe_event_id=payload["id"])
    assert stripe_event_process(event_pk=stored.pk) == "identity: verified"
    stored.refresh_from_db()
    assert stored.processed_at is not None and stored.outcome == "identity: verified"
    user.refresh_from_db()
    assert user.is_age_verified
    assert list(IdentityEvent.objects.values_list("event_id", "result")) == [
        (payload["id"], "verified")
    ]
    # The same event at the Identity endpoint too (both endpoints subscribed): once.
    body, header = signed(payload)
    again = client.post(
        IDENTITY_WEBHOOK, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )
    assert again.json() == {"received": True, "result": "duplicate"}
    assert IdentityEvent.objects.count() == 1


@pytest.mark.django_db
def test_an_identity_event_before_its_session_row_is_parked_then_applied(
    identity_stripe: IdentityStripe, django_capture_on_commit_callbacks: Any
) -> None:
    user = UserFactory.create()
    # Stripe made session vs_test_1 and reported it before our row was committed.
    payload = event(VERIFIED, _session("vs_test_1"))
    body, header = signed(payload)
    with django_capture_on_commit_callbacks(execute=False):
        stored, _ = stripe_event_receive(payload=body, signature=header)
    assert stripe_event_process(event_pk=stored.pk) == (
        "waiting: identity session vs_test_1 is not known yet"
    )
    stored.refresh_from_db()
    assert (stored.processed_at, stored.parked_on) == (None, "identity_session:vs_test_1")
    assert not IdentityEvent.objects.exists()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert _start(user) == "vs_test_1"
    assert [c.__qualname__ for c in callbacks if "wake" in c.__qualname__] == [
        "stripe_events_wake.<locals>.wake"
    ]
    identity_stripe.settle("vs_test_1", "verified", dob=(1990, 5, 17))
    assert stripe_event_process(event_pk=stored.pk) == "identity: verified"
    user.refresh_from_db()
    assert user.is_age_verified
    stored.refresh_from_db()
    assert stored.parked_on == "" and stored.processed_at is not None


@pytest.mark.django_db
def test_an_unhandled_identity_type_is_stored_and_acknowledged(client: Client) -> None:
    payload = event("identity.verification_session.processing", _session("vs_other"))
    assert post_event(client, payload).status_code == 200
    stored = StripeEvent.objects.get(stripe_event_id=payload["id"])
    assert stripe_event_process(event_pk=stored.pk) == "ignored: not a handled type"
    assert not IdentityEvent.objects.exists()


@pytest.mark.django_db
def test_a_library_signed_identity_event_at_the_inbox_verifies_once_and_replays_change_nothing(
    client: Client,
    settings: Any,
    identity_stripe: IdentityStripe,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Signed by the stripe library's own scheme (``generate_signature_header``), as
    Stripe signs deliveries; the replay is stored once and applied once."""
    user = UserFactory.create(date_of_birth=dt.date(1990, 5, 17))
    session_id = _start(user)
    identity_stripe.settle(session_id, "verified", dob=(1990, 5, 17))
    body = json.dumps(event(VERIFIED, _session(session_id)))
    header = stripe.WebhookSignature.generate_signature_header(body, settings.STRIPE_WEBHOOK_SECRET)

    def deliver() -> Any:
        with django_capture_on_commit_callbacks(execute=False):
            return client.post(
                "/billing/stripe/webhook/",
                body,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=header,
            )

    first = deliver()
    assert (first.status_code, first.json()) == (200, {"received": True, "duplicate": False})
    stored = StripeEvent.objects.get()
    assert stripe_event_process(event_pk=stored.pk) == "identity: verified"
    user.refresh_from_db()
    verified_at = user.age_verified_at
    assert user.is_age_verified and verified_at is not None

    replay = deliver()
    assert (replay.status_code, replay.json()) == (200, {"received": True, "duplicate": True})
    assert stripe_event_process(event_pk=stored.pk) is None  # processed: nothing to claim
    user.refresh_from_db()
    assert user.age_verified_at == verified_at
    assert StripeEvent.objects.count() == 1
    assert list(IdentityEvent.objects.values_list("result", flat=True)) == ["verified"]
    assert AgeVerification.objects.get(user=user).outcome == "verified"
