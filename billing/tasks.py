from __future__ import annotations

import stripe
from celery import shared_task
from django.db import OperationalError

from billing.redrive import PROCESS_QUEUE, PROCESS_TASK, stripe_events_redrive
from billing.webhooks import stripe_event_process

TRANSIENT_ERRORS = (stripe.APIConnectionError, stripe.RateLimitError, OperationalError)


@shared_task(
    name=PROCESS_TASK,
    queue=PROCESS_QUEUE,
    ignore_result=True,
    autoretry_for=TRANSIENT_ERRORS,
    max_retries=5,
    retry_backoff=True,
)
def process_stripe_event(event_pk: int) -> None:
    """Handle one stored Stripe event; a no-op when it was already processed."""
    stripe_event_process(event_pk=event_pk)


@shared_task(
    name="billing.redrive_stripe_events",
    queue="default",
    ignore_result=True,
    expires=300,
)
def redrive_stripe_events() -> None:
    """Beat: send again every Stripe event left unprocessed (see ``billing.redrive``)."""
    stripe_events_redrive()
