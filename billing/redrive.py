"""The Stripe inbox's outbox side: parking early events, waking them, re-driving the stuck.

Rules (docs/reliability.md, "Payments and Stripe events", has the long form):

* An event that arrives before what it needs (a customer not linked to a user yet, an
  Identity session whose row is not committed yet) is *parked*: left unprocessed, its
  claim dropped, with ``parked_on`` naming the link it waits for. Whoever creates that
  link calls ``stripe_events_wake`` and the parked events are processed again.
* Parking and waking cannot miss each other: the parker writes ``parked_on`` first and
  then looks for the link again; the linker commits the link first and then looks for
  parked events. Under READ COMMITTED one of the two always sees the other's write.
* ``billing.redrive_stripe_events`` runs every ``STRIPE_EVENT_REDRIVE_SECONDS`` (beat)
  and enqueues every event that is unprocessed, not claimed (or whose claim is older
  than ``STRIPE_EVENT_CLAIM_SECONDS``), older than one interval and due
  (``redrive_after``): events whose enqueue failed, whose message a broker lost, whose
  worker died, or whose handler failed (with a backoff).
* Enqueueing never fails a caller: the row is the durable record, and the re-drive
  sends what the broker did not take.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import AgeVerification
from billing.models import Customer, StripeEvent

logger = logging.getLogger(__name__)

REDRIVE_BATCH = 500
MAX_BACKOFF = dt.timedelta(hours=6)
# A quick publish or none: a webhook must answer fast, and the re-drive sends it later.
# The processing task (billing/tasks.py), sent by name.
PROCESS_TASK = "billing.process_stripe_event"
PROCESS_QUEUE = "default"
PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2}


class EventParked(Exception):
    """The event needs a link that is not there yet; it waits, unprocessed."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(reason)
        self.key = key


def redrive_interval() -> dt.timedelta:
    return dt.timedelta(seconds=int(settings.STRIPE_EVENT_REDRIVE_SECONDS))


def claim_expiry() -> dt.timedelta:
    return dt.timedelta(seconds=int(settings.STRIPE_EVENT_CLAIM_SECONDS))


def backoff(*, attempts: int) -> dt.timedelta:
    """How long the periodic re-drive leaves an event that failed or waits: doubling."""
    return min(redrive_interval() * (2 ** min(max(attempts - 1, 0), 16)), MAX_BACKOFF)


def link_exists(key: str) -> bool:
    """Whether the link a parked event waits for is there now."""
    kind, _, value = key.partition(":")
    if kind == "customer":
        return Customer.objects.filter(stripe_customer_id=value).exists()
    if kind == "identity_session":
        return AgeVerification.objects.filter(session_id=value).exists()
    return False


def stripe_event_publish(*, event_pk: int) -> bool:
    """Send one event to the processing task; False (logged) when the broker refused.

    The task is found by name: its module imports this one (a task may import
    services, never the other way round)."""
    task = current_app.tasks[PROCESS_TASK]
    try:
        task.apply_async((event_pk,), retry=True, retry_policy=PUBLISH_RETRY_POLICY)
    except Exception as exc:  # the broker's errors vary by transport (kombu, redis, OS)
        logger.warning(
            "Stripe event %s not enqueued (%s); the periodic re-drive will send it",
            event_pk,
            exc.__class__.__name__,
        )
        return False
    return True


def stripe_event_enqueue(*, event_pk: int) -> None:
    """Publish once the stored row is committed; a failed publish only logs."""
    transaction.on_commit(lambda: stripe_event_publish(event_pk=event_pk))


def stripe_events_wake(*, key: str) -> None:
    """Once the current transaction commits, process the events parked on ``key``."""

    def wake() -> None:
        pending = StripeEvent.objects.filter(parked_on=key, processed_at__isnull=True)
        for event_pk in pending.values_list("pk", flat=True):
            stripe_event_publish(event_pk=event_pk)

    transaction.on_commit(wake)


def identity_session_wake(*, session_id: str) -> None:
    """An Identity session's row is being committed: wake the events parked on it
    (provides ``accounts.upcalls.identity_session_created``)."""
    stripe_events_wake(key=f"identity_session:{session_id}")


def stripe_event_release(*, event_pk: int, **fields: Any) -> None:
    """Drop the claim (writing ``fields``), on a fresh connection if this one is dead.

    Called after a handler failed: when the failure was the database connection, the
    row must still be released, or only the claim expiry would free it.
    """
    for attempt in range(4):
        try:
            if not connection.in_atomic_block:
                if attempt:
                    connection.close()  # the next query opens a new connection
                else:
                    connection.close_if_unusable_or_obsolete()
            StripeEvent.objects.filter(pk=event_pk).update(claimed_at=None, **fields)
            return
        except DatabaseError:
            if attempt == 3 or connection.in_atomic_block:
                logger.exception(
                    "Could not release Stripe event %s; its claim expires in %s",
                    event_pk,
                    claim_expiry(),
                )
                return
            time.sleep(0.2 * (attempt + 1))


def stripe_events_due(*, now: dt.datetime | None = None) -> list[int]:
    """Events the periodic re-drive sends: unprocessed, unclaimed or expired, due."""
    now = now or timezone.now()
    due = (
        StripeEvent.objects.filter(
            processed_at__isnull=True, received_at__lt=now - redrive_interval()
        )
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - claim_expiry()))
        .filter(Q(redrive_after__isnull=True) | Q(redrive_after__lte=now))
        .order_by("received_at")
    )
    return list(due.values_list("pk", flat=True)[:REDRIVE_BATCH])


def stripe_events_redrive() -> int:
    """Enqueue every due event once; answers how many were sent."""
    sent = 0
    for event_pk in stripe_events_due():
        if stripe_event_publish(event_pk=event_pk):
            sent += 1
    if sent:
        logger.info("Re-drove %s Stripe events", sent)
    return sent
