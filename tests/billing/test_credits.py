from __future__ import annotations

import threading

import pytest
from django.db import IntegrityError, connection, connections, transaction

from accountability.models import AuditLogEntry
from accounts.models import User
from billing.credits import (
    CreditBalance,
    credits_adjust,
    credits_balance,
    credits_commit,
    credits_grant,
    credits_release,
    credits_reserve,
)
from billing.models import CreditAccount, CreditLedgerEntry, LedgerKind
from billing.pricing import generation_cost
from core.errors import ApplicationError, ErrorCode
from tests.billing.conftest import make_user


@pytest.mark.parametrize(
    ("width", "height", "steps", "images", "cost"),
    [
        (512, 512, 25, 1, 1),
        (256, 256, 4, 1, 1),
        (768, 768, 30, 1, 3),
        (1024, 1024, 50, 4, 32),
        (512, 768, 25, 2, 4),
    ],
)
def test_generation_cost_follows_the_spec_formula(
    width: int, height: int, steps: int, images: int, cost: int
) -> None:
    assert generation_cost(width=width, height=height, steps=steps, num_images=images) == cost


def test_reserve_moves_credits_from_balance_to_reserved(user: User) -> None:
    credits_grant(user=user, amount=10, reason="test", reference="grant:1")
    reservation = credits_reserve(user=user, amount=3, reference="generation:a")
    assert reservation.created and reservation.amount == 3
    assert credits_balance(user=user).balance == 7
    assert credits_balance(user=user).reserved == 3


def test_reserve_is_idempotent_per_reference(user: User) -> None:
    credits_grant(user=user, amount=10, reason="test", reference="grant:1")
    credits_reserve(user=user, amount=3, reference="generation:a")
    again = credits_reserve(user=user, amount=3, reference="generation:a")
    assert not again.created
    assert credits_balance(user=user).balance == 7
    assert CreditLedgerEntry.objects.filter(kind=LedgerKind.RESERVE).count() == 1


def test_reserve_without_enough_credits_is_quota_exhausted_and_changes_nothing(
    user: User,
) -> None:
    credits_grant(user=user, amount=2, reason="test", reference="grant:1")
    with pytest.raises(ApplicationError) as error:
        credits_reserve(user=user, amount=3, reference="generation:a")
    assert error.value.code == ErrorCode.QUOTA_EXHAUSTED
    assert error.value.status == 402
    assert credits_balance(user=user).balance == 2
    assert not CreditLedgerEntry.objects.filter(kind=LedgerKind.RESERVE).exists()


def test_commit_settles_once_and_release_after_commit_is_a_no_op(user: User) -> None:
    credits_grant(user=user, amount=10, reason="test", reference="grant:1")
    credits_reserve(user=user, amount=4, reference="generation:a")
    first = credits_commit(reference="generation:a")
    assert first is not None and first.created
    assert credits_commit(reference="generation:a").created is False  # type: ignore[union-attr]
    late_release = credits_release(reference="generation:a", reason="cancelled")
    assert late_release is not None and late_release.kind == LedgerKind.COMMIT
    assert credits_balance(user=user).balance == 6
    assert credits_balance(user=user).reserved == 0


def test_release_gives_the_credits_back_once(user: User) -> None:
    credits_grant(user=user, amount=10, reason="test", reference="grant:1")
    credits_reserve(user=user, amount=4, reference="generation:a")
    credits_release(reference="generation:a", reason="blocked")
    credits_release(reference="generation:a", reason="blocked")
    credits_commit(reference="generation:a")
    assert credits_balance(user=user).balance == 10
    assert credits_balance(user=user).reserved == 0


def test_settling_an_unknown_reservation_answers_none(db: None) -> None:
    assert credits_commit(reference="generation:none") is None
    assert credits_release(reference="generation:none", reason="x") is None


def test_grant_happens_once_per_reference(user: User) -> None:
    credits_grant(user=user, amount=100, reason="invoice", reference="invoice:in_1")
    credits_grant(user=user, amount=100, reason="invoice", reference="invoice:in_1")
    assert credits_balance(user=user).balance == 100


def test_adjustment_needs_a_reason_and_is_audited(user: User) -> None:
    admin = make_user(is_staff=True)
    with pytest.raises(ApplicationError):
        credits_adjust(user=user, amount=5, reason="  ", actor=admin)
    entry = credits_adjust(user=user, amount=5, reason="goodwill", actor=admin)
    assert entry is not None and entry.created_by == admin
    assert credits_balance(user=user).balance == 5
    audit = AuditLogEntry.objects.get(action="billing.credits_adjust")
    assert audit.reason == "goodwill" and audit.actor_label == f"user:{admin.pk}"


def test_adjustment_cannot_make_the_balance_negative(user: User) -> None:
    credits_grant(user=user, amount=3, reason="test", reference="grant:1")
    with pytest.raises(ApplicationError):
        credits_adjust(user=user, amount=-4, reason="oops", actor=None)
    assert credits_balance(user=user).balance == 3


def test_the_database_refuses_a_negative_balance(user: User) -> None:
    CreditAccount.objects.create(user=user, balance=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditAccount.objects.filter(user=user).update(balance=-1)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the ledger's append-only trigger is PostgreSQL's"
)
def test_the_ledger_is_append_only_on_postgresql(user: User) -> None:
    entry = credits_grant(user=user, amount=3, reason="test", reference="grant:1")
    with pytest.raises(Exception, match="Cannot"), transaction.atomic():
        CreditLedgerEntry.objects.filter(pk=entry.pk).update(amount=300)


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="concurrent row locks need PostgreSQL (SQLite serialises whole-database writes)",
)
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_reservations_against_ten_credits_exactly_ten_succeed() -> None:
    user = make_user()
    credits_grant(user=user, amount=10, reason="test", reference="grant:concurrency")
    barrier = threading.Barrier(50)
    outcomes: list[str] = []
    lock = threading.Lock()

    def reserve(index: int) -> None:
        try:
            barrier.wait()
            credits_reserve(user=user, amount=1, reference=f"generation:{index}")
            result = "ok"
        except ApplicationError as exc:
            result = exc.code
        except Exception as exc:  # pragma: no cover - reported below
            result = repr(exc)
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=reserve, args=(i,)) for i in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == sorted(["ok"] * 10 + [ErrorCode.QUOTA_EXHAUSTED] * 40)
    assert credits_balance(user=user) == credits_balance(user=user).__class__(0, 10)
    assert CreditLedgerEntry.objects.filter(user=user, kind=LedgerKind.RESERVE).count() == 10


def test_a_reservation_that_lost_a_race_gives_back_what_it_took(user: User, monkeypatch) -> None:
    """Two first calls for one reference, both past the check (a concurrent caller's
    snapshot): the ledger refuses the second entry, and the second call leaves the
    balance as the first left it and answers the first reservation."""
    import billing.credits as credits

    credits_grant(user=user, amount=10, reason="test", reference="grant:race")
    first = credits_reserve(user=user, amount=3, reference="generation:race")
    statement = credits._take_statement

    def take_without_the_check(*, user_id, amount, reference):
        # as if the entry were not there yet (on PostgreSQL the entry's INSERT is in the
        # same statement, and its ON CONFLICT DO NOTHING is what refuses it)
        return statement(user_id=user_id, amount=amount, reference=None)

    monkeypatch.setattr(credits, "_take_statement", take_without_the_check)
    with transaction.atomic():  # inside a caller's transaction, which goes on
        second = credits_reserve(user=user, amount=3, reference="generation:race")
        assert CreditAccount.objects.filter(user=user).count() == 1
    assert first.created and not second.created
    assert second.amount == 3
    assert credits_balance(user=user) == CreditBalance(balance=7, reserved=3)
    assert CreditLedgerEntry.objects.filter(kind=LedgerKind.RESERVE).count() == 1
