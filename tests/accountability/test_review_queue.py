from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from accountability.models import ReviewItem, ReviewStatus
from accountability.review import review_claim, review_claim_next, review_item_open
from core.errors import ApplicationError
from tests.accountability.fixtures import claim, make_user


def _open(subject: str, *, severity: int = 3, user=None, kind: str = "output") -> ReviewItem:
    return review_item_open(
        kind=kind,
        subject_type="generation.job",
        subject_id=subject,
        user=user,
        category="violence_graphic",
        severity=severity,
    )


def test_opening_the_same_subject_twice_keeps_one_item_with_the_higher_severity(db) -> None:
    first = _open("job-1", severity=2)
    again = review_item_open(
        kind="output",
        subject_type="generation.job",
        subject_id="job-1",
        user=None,
        category="violence_graphic",
        severity=5,
        context={"prompt": "p"},
    )
    assert again.pk == first.pk
    assert ReviewItem.objects.count() == 1
    again.refresh_from_db()
    assert (again.severity, again.priority, again.context) == (5, 4, {"prompt": "p"})


def test_claim_next_takes_the_most_urgent_by_severity_and_age(moderator) -> None:
    low_old = _open("low-old", severity=1)
    ReviewItem.objects.filter(pk=low_old.pk).update(
        created_at=timezone.now() - dt.timedelta(days=5),
        due_at=timezone.now() - dt.timedelta(days=2),
    )
    _open("normal-new", severity=3)
    critical = _open("critical-new", severity=5)
    # The low item has waited past its SLA: it comes first, then the critical one.
    assert claim(moderator).pk == low_old.pk
    ReviewItem.objects.filter(pk=low_old.pk).update(status=ReviewStatus.DECIDED)
    assert claim(moderator).pk == critical.pk


def test_claim_next_returns_the_moderators_current_claim(moderator) -> None:
    _open("a")
    _open("b")
    first = claim(moderator)
    assert claim(moderator).pk == first.pk
    assert ReviewItem.objects.filter(status=ReviewStatus.CLAIMED).count() == 1


def test_an_expired_claim_can_be_taken_by_another_moderator(moderator, moderator2) -> None:
    item = _open("a")
    claimed = claim(moderator)
    assert claimed.pk == item.pk
    assert review_claim_next(moderator=moderator2) is None
    ReviewItem.objects.filter(pk=item.pk).update(
        claim_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    taken = review_claim_next(moderator=moderator2)
    assert taken is not None and taken.pk == item.pk and taken.claimed_by == moderator2


def test_claiming_a_held_item_of_another_moderator_is_refused(moderator, moderator2) -> None:
    item = _open("a")
    review_claim(item=item, moderator=moderator)
    with pytest.raises(ApplicationError) as refused:
        review_claim(item=item, moderator=moderator2)
    assert refused.value.status == 409
    item.refresh_from_db()
    assert item.claimed_by == moderator


def test_moderators_never_get_their_own_account_or_senior_items(moderator, senior) -> None:
    own = _open("own", user=moderator, severity=1)
    escalated = _open("escalated", severity=3)
    ReviewItem.objects.filter(pk=escalated.pk).update(requires_senior=True)
    assert review_claim_next(moderator=moderator) is None
    assert claim(senior).pk == escalated.pk
    assert ReviewItem.objects.get(pk=own.pk).status == ReviewStatus.OPEN


def test_non_moderators_cannot_claim(subscriber, billing_admin) -> None:
    _open("a")
    for user in (subscriber, billing_admin):
        with pytest.raises(ApplicationError) as refused:
            review_claim_next(moderator=user)
        assert refused.value.status == 404
    assert ReviewItem.objects.get().status == ReviewStatus.OPEN


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SKIP LOCKED row locks need PostgreSQL; SQLite serialises whole-database writes",
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_never_hand_one_item_to_two_moderators() -> None:
    moderators = [make_user(f"mod{n}@example.com", groups=("moderators",)) for n in range(8)]
    for n in range(5):
        _open(f"job-{n}")
    barrier = threading.Barrier(len(moderators))
    results: dict[str, str | None] = {}
    errors: list[BaseException] = []

    def claim(user) -> None:
        try:
            barrier.wait()
            item = review_claim_next(moderator=user)
            results[user.email] = str(item.pk) if item else None
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claim, args=(user,)) for user in moderators]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    claimed = [pk for pk in results.values() if pk is not None]
    assert len(claimed) == 5
    assert len(set(claimed)) == 5
    assert sum(1 for pk in results.values() if pk is None) == 3
    rows = ReviewItem.objects.filter(status=ReviewStatus.CLAIMED)
    assert {row.claimed_by.email for row in rows if row.claimed_by is not None} == {
        email for email, pk in results.items() if pk is not None
    }
