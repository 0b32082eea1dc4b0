"""The Stripe inbox's re-drive: what it sends, what it leaves, and the webhook's answer
when the broker refuses (issue 12, F1). The same faults with real processes are in
``tests/billing_faults/``."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from billing.credits import credits_balance
from billing.models import Customer, Plan, StripeEvent
from billing.redrive import backoff, stripe_events_due, stripe_events_redrive
from billing.webhooks import HANDLERS, stripe_event_process
from tests.billing.conftest import event, invoice_obj, new_id, post_event


def stored_event(customer: Customer, premium: Plan, **fields: Any) -> StripeEvent:
    payload = event("invoice.paid", invoice_obj(
        invoice_id=new_id("in"), customer=customer, sub_id="sub_r", price=premium.stripe_price_id
    ))  # fmt: skip
    row = StripeEvent.objects.create(
        stripe_event_id=payload["id"], type=payload["type"], created=payload["created"],
        payload=payload,
    )  # fmt: skip
    received_at = fields.pop("received_at", timezone.now() - dt.timedelta(minutes=5))
    StripeEvent.objects.filter(pk=row.pk).update(received_at=received_at, **fields)
    row.refresh_from_db()
    return row


def test_the_redrive_sends_unprocessed_unclaimed_and_expired_claims_only(
    customer: Customer, premium: Plan
) -> None:
    now = timezone.now()
    expiry = dt.timedelta(seconds=settings.STRIPE_EVENT_CLAIM_SECONDS)
    lost = stored_event(customer, premium)
    expired = stored_event(customer, premium, claimed_at=now - expiry - dt.timedelta(seconds=1))
    stored_event(customer, premium, claimed_at=now - dt.timedelta(seconds=5))  # being processed
    stored_event(customer, premium, processed_at=now)
    stored_event(customer, premium, received_at=now)  # its own message is still on the way
    stored_event(customer, premium, redrive_after=now + dt.timedelta(minutes=1))  # backing off
    due_again = stored_event(customer, premium, redrive_after=now - dt.timedelta(seconds=1))
    assert stripe_events_due(now=now) == [lost.pk, expired.pk, due_again.pk]


def test_a_redriven_event_with_an_expired_claim_is_processed_once(
    customer: Customer, premium: Plan, monkeypatch: pytest.MonkeyPatch
) -> None:
    expiry = dt.timedelta(seconds=settings.STRIPE_EVENT_CLAIM_SECONDS)
    stuck = stored_event(customer, premium, claimed_at=timezone.now() - expiry * 2, attempts=1)
    sent: list[int] = []
    monkeypatch.setattr(
        "billing.tasks.process_stripe_event.apply_async",
        lambda args, **kwargs: sent.append(args[0]),
    )
    assert stripe_events_redrive() == 1
    assert sent == [stuck.pk]
    outcome = stripe_event_process(event_pk=stuck.pk)
    assert outcome is not None and outcome.startswith(f"granted {premium.credits_per_period} ")
    stuck.refresh_from_db()
    assert stuck.processed_at is not None and stuck.attempts == 2
    assert stripe_event_process(event_pk=stuck.pk) is None
    assert credits_balance(user=customer.user).balance == premium.credits_per_period


def test_a_failing_handler_drops_its_claim_and_backs_off(
    customer: Customer, premium: Plan, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = stored_event(customer, premium)

    def broken(event: StripeEvent) -> str:
        raise RuntimeError("the handler broke")

    monkeypatch.setitem(HANDLERS, "invoice.paid", broken)
    before = timezone.now()
    with pytest.raises(RuntimeError):
        stripe_event_process(event_pk=row.pk)
    row.refresh_from_db()
    assert (row.claimed_at, row.processed_at, row.attempts) == (None, None, 1)
    assert row.error == "RuntimeError: the handler broke"
    assert row.redrive_after is not None
    assert row.redrive_after - before >= backoff(attempts=1) - dt.timedelta(seconds=1)
    assert backoff(attempts=3) == 4 * backoff(attempts=1)
    assert backoff(attempts=60) == dt.timedelta(hours=6)


def test_the_webhook_answers_200_when_the_broker_refuses_and_stores_the_event(
    client: Client,
    customer: Customer,
    premium: Plan,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise BrokerError("Error 111 connecting to 127.0.0.1:6411. Connection refused.")

    monkeypatch.setattr("billing.tasks.process_stripe_event.apply_async", refuse)
    payload = event("invoice.paid", invoice_obj(
        invoice_id=new_id("in"), customer=customer, sub_id="sub_b", price=premium.stripe_price_id
    ))  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        response = post_event(client, payload)
    assert response.status_code == 200
    assert response.json() == {"received": True, "duplicate": False}
    stored = StripeEvent.objects.get(stripe_event_id=payload["id"])
    assert (stored.processed_at, stored.claimed_at) == (None, None)
    assert credits_balance(user=customer.user).balance == 0


def test_the_redrive_runs_on_the_beat_schedule_every_configured_interval() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["billing-redrive-stripe-events"]
    assert entry == {
        "task": "billing.redrive_stripe_events",
        "schedule": float(settings.STRIPE_EVENT_REDRIVE_SECONDS),
    }
    from imagegate.celery import app

    assert "billing.redrive_stripe_events" in app.tasks
