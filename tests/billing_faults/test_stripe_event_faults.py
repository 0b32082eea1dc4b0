"""Paid invoices under broker and database faults, with real processes (issue 12, F1).

A Redis of the test's own (crashed with SIGKILL, restarted empty), gunicorn serving the
webhook, a Celery worker with its beat, and PostgreSQL backends cut with
``pg_terminate_backend`` (only this test database's). Afterwards every paid invoice is
granted exactly once and the ledger balances:
balance + reserved = grants + adjustments − commits.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection
from django.db.models import Sum

from accounts.models import User
from billing.credits import credits_balance, credits_grant
from billing.models import CreditLedgerEntry, Customer, LedgerKind, Plan, StripeEvent
from billing.webhooks import stripe_event_receive
from tests.billing.conftest import event, invoice_obj, make_user, new_id, signed
from tests.billing_faults.processes import celery_worker, own_redis, post_json, web_server

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.2)


def ledger_is_balanced(user: User) -> bool:
    def total(kind: str) -> int:
        entries = CreditLedgerEntry.objects.filter(user=user, kind=kind)
        return int(entries.aggregate(total=Sum("amount"))["total"] or 0)

    held = credits_balance(user=user)
    return held.balance + held.reserved == (
        total(LedgerKind.GRANT) + total(LedgerKind.ADJUSTMENT) - total(LedgerKind.COMMIT)
    )


def grants_by_invoice(user: User) -> dict[str, int]:
    grants = CreditLedgerEntry.objects.filter(user=user, kind=LedgerKind.GRANT)
    counts: dict[str, int] = {}
    for reference in grants.values_list("reference", flat=True):
        counts[reference] = counts.get(reference, 0) + 1
    return counts


@pytest.fixture
def subscriber() -> Iterator[tuple[User, Customer, Plan]]:
    user = make_user()
    customer = Customer.objects.create(user=user, stripe_customer_id=new_id("cus"))
    yield user, customer, Plan.objects.get(code="premium")


def paid_invoice(customer: Customer, plan: Plan) -> dict[str, Any]:
    return event("invoice.paid", invoice_obj(
        invoice_id=new_id("in"), customer=customer, sub_id="sub_faults",
        price=plan.stripe_price_id, billing_reason="subscription_cycle",
    ))  # fmt: skip


def deliver_over_http(base: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any], float]:
    body, header = signed(payload)
    started = time.monotonic()
    status, answer = post_json(
        f"{base}/billing/stripe/webhook/",
        body,
        {"Content-Type": "application/json", "Stripe-Signature": header},
    )
    return status, answer, time.monotonic() - started


def test_paid_invoices_survive_a_broker_down_at_delivery_and_restarted_empty(
    subscriber: tuple[User, Customer, Plan], tmp_path: Path
) -> None:
    user, customer, plan = subscriber
    queued, while_down, after = (paid_invoice(customer, plan) for _ in range(3))
    with own_redis() as redis_server, web_server(broker_url=redis_server.url) as base:
        # Delivered while no worker runs: its message waits in the broker...
        assert deliver_over_http(base, queued)[:2] == (200, {"received": True, "duplicate": False})
        assert redis_server.queued() == 1
        # ...which crashes (no persistence): the message is gone.
        redis_server.crash()
        status, answer, seconds = deliver_over_http(base, while_down)
        assert (status, answer) == (200, {"received": True, "duplicate": False})
        assert seconds < 10, seconds
        # Stripe's retry of the same event: stored once, answered 200.
        assert deliver_over_http(base, while_down)[:2] == (
            200, {"received": True, "duplicate": True},
        )  # fmt: skip
        assert StripeEvent.objects.filter(processed_at__isnull=True).count() == 2
        assert credits_balance(user=user).balance == 0

        redis_server.start()
        assert redis_server.queued() == 0
        worker = celery_worker(
            broker_url=redis_server.url, beat=True, schedule_dir=tmp_path,
            STRIPE_EVENT_REDRIVE_SECONDS="1",
        )  # fmt: skip
        try:
            assert deliver_over_http(base, after)[:2] == (
                200, {"received": True, "duplicate": False},
            )  # fmt: skip
            wait_until(
                lambda: not StripeEvent.objects.filter(processed_at__isnull=True).exists(),
                timeout=60,
                what=f"events still unprocessed:\n{worker.output()[-4000:]}",
            )
        finally:
            worker.stop()
    invoices = [p["data"]["object"]["id"] for p in (queued, while_down, after)]
    assert grants_by_invoice(user) == {f"invoice:{i}": 1 for i in invoices}
    assert credits_balance(user=user).balance == 3 * plan.credits_per_period
    assert ledger_is_balanced(user)
    assert set(StripeEvent.objects.values_list("error", flat=True)) == {""}


def _locker() -> psycopg.Connection[Any]:
    settings = connection.settings_dict
    return psycopg.connect(
        host=settings["HOST"] or "127.0.0.1", port=int(settings["PORT"] or 5432),
        user=settings["USER"], password=settings["PASSWORD"] or None,
        dbname=settings["NAME"], autocommit=False,
    )  # fmt: skip


def _waiting_backend(statement_start: str) -> int:
    """The pid of this database's backend waiting on a lock in ``statement_start``."""
    found: list[int] = []

    def look() -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
                " AND wait_event_type = 'Lock' AND query LIKE %s",
                [connection.settings_dict["NAME"], f"{statement_start}%"],
            )
            found[:] = [row[0] for row in cursor.fetchall()]
        return len(found) == 1

    wait_until(look, timeout=60, what=f"no backend waiting in {statement_start!r}")
    return found[0]


def _terminate(pid: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid = %s",
            [connection.settings_dict["NAME"], pid],
        )
        assert cursor.fetchone() == (True,)


def test_a_worker_connection_killed_mid_event_never_leaves_a_claim_stuck(
    subscriber: tuple[User, Customer, Plan],
) -> None:
    user, customer, plan = subscriber
    credits_grant(user=user, amount=5, reason="opening balance", reference=new_id("grant"))
    account_lock = "SELECT id FROM billing_creditaccount WHERE user_id = %s FOR UPDATE"
    # A claim left behind would wait ten minutes; only dropping it can pass this test.
    worker = celery_worker(STRIPE_EVENT_CLAIM_SECONDS="600")
    first, second = _locker(), _locker()
    try:
        # 1. Cut inside the grant's transaction.
        first.execute(account_lock, [user.pk])
        inside = paid_invoice(customer, plan)
        stored_inside = receive(inside)
        _terminate(_waiting_backend("SELECT"))
        first.commit()
        _wait_processed(stored_inside.pk, worker.output)

        # 2. Cut outside any transaction: the update that marks the event processed.
        first.execute(account_lock, [user.pk])
        outside = paid_invoice(customer, plan)
        stored_outside = receive(outside)
        _waiting_backend("SELECT")
        second.execute(
            "SELECT id FROM billing_stripeevent WHERE id = %s FOR UPDATE", [stored_outside.pk]
        )
        first.commit()  # the grant goes through, then the final update waits
        _terminate(_waiting_backend('UPDATE "billing_stripeevent"'))
        second.commit()
        _wait_processed(stored_outside.pk, worker.output)
    finally:
        first.close()
        second.close()
        worker.stop()
    stored_inside.refresh_from_db()
    stored_outside.refresh_from_db()
    assert (stored_inside.attempts, stored_outside.attempts) == (2, 2)
    assert (stored_inside.error, stored_outside.error) == ("", "")
    invoices = [p["data"]["object"]["id"] for p in (inside, outside)]
    grants = grants_by_invoice(user)
    assert {k: v for k, v in grants.items() if k.startswith("invoice:")} == {
        f"invoice:{i}": 1 for i in invoices
    }
    assert credits_balance(user=user).balance == 5 + 2 * plan.credits_per_period
    assert ledger_is_balanced(user)


def receive(payload: dict[str, Any]) -> StripeEvent:
    """The web side in this process: store and enqueue (on the shared test broker)."""
    body, header = signed(payload)
    stored, _ = stripe_event_receive(payload=body, signature=header)
    return stored


def _wait_processed(event_pk: int, output: Callable[[], str]) -> None:
    wait_until(
        lambda: StripeEvent.objects.filter(pk=event_pk, processed_at__isnull=False).exists(),
        timeout=45,
        what=f"event {event_pk} not processed:\n{output()[-4000:]}",
    )


def test_a_worker_killed_mid_grant_loses_no_invoice_and_grants_it_once(
    subscriber: tuple[User, Customer, Plan], tmp_path: Path
) -> None:
    """SIGKILL of the whole worker (no shutdown, no rollback of its own) inside the
    grant's transaction: the event stays claimed by a dead worker; a new worker's
    re-drive takes the claim over once it expires and grants exactly once."""
    user, customer, plan = subscriber
    credits_grant(user=user, amount=5, reason="opening balance", reference=new_id("grant"))
    account_lock = "SELECT id FROM billing_creditaccount WHERE user_id = %s FOR UPDATE"
    locker = _locker()
    doomed = celery_worker(STRIPE_EVENT_CLAIM_SECONDS="3")
    try:
        locker.execute(account_lock, [user.pk])
        payload = paid_invoice(customer, plan)
        stored = receive(payload)
        _waiting_backend("SELECT")  # the worker is inside the grant, waiting on the row
        doomed.stop(signal.SIGKILL)
        locker.commit()
        stored.refresh_from_db()
        assert (stored.processed_at, stored.attempts) == (None, 1)
        assert stored.claimed_at is not None  # claimed by a worker that no longer exists
        assert credits_balance(user=user).balance == 5
    finally:
        locker.close()
        doomed.stop()
    heir = celery_worker(
        beat=True, schedule_dir=tmp_path,
        STRIPE_EVENT_CLAIM_SECONDS="3", STRIPE_EVENT_REDRIVE_SECONDS="1",
    )  # fmt: skip
    try:
        _wait_processed(stored.pk, heir.output)
    finally:
        heir.stop()
    stored.refresh_from_db()
    assert (stored.attempts, stored.error) == (2, "")
    invoice = payload["data"]["object"]["id"]
    grants = grants_by_invoice(user)
    assert {k: v for k, v in grants.items() if k.startswith("invoice:")} == {
        f"invoice:{invoice}": 1
    }
    assert credits_balance(user=user).balance == 5 + plan.credits_per_period
    assert ledger_is_balanced(user)
