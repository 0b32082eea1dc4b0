"""Demo billing state of SPEC §10, created idempotently by ``manage.py seed_demo``."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings

from billing.entitlements import LIVE_STATUSES
from billing.models import Customer, Plan, Subscription
from billing.services import checkout_session_create
from core.stripe_client import offline_stand_in

logger = logging.getLogger(__name__)

DEMO_SUBSCRIPTIONS = {"subscriber@example.com": "premium", "pro@example.com": "pro"}


def seed_billing(*, users: dict[str, Any]) -> list[str]:
    """Subscribe the demo subscribers through the offline Checkout stand-in.

    The same path a user takes: a Stripe customer, a Checkout Session, payment, and
    the signed events (subscription created, invoice paid — which grants the
    period's credits) processed by the webhook handlers. Skipped for users who
    already have a live subscription, and entirely when a real Stripe key is set.
    """
    if not settings.STRIPE_OFFLINE:
        logger.warning("Demo subscriptions are seeded only with the offline Stripe stand-in.")
        return []
    seeded: list[str] = []
    for email, plan_code in DEMO_SUBSCRIPTIONS.items():
        user = users.get(email)
        if user is None or not Plan.objects.filter(code=plan_code).exists():
            continue
        if Subscription.objects.filter(user=user, status__in=LIVE_STATUSES).exists():
            continue
        url = checkout_session_create(user=user, plan_code=plan_code)
        session_id = url.rstrip("/").rsplit("/", 1)[-1]
        offline_stand_in().checkout_complete(session_id=session_id, process_now=True)
        assert Customer.objects.filter(user=user).exists()
        seeded.append(email)
    return seeded
