from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from accountability.appeals import appeal_create, appeal_decide
from accountability.decisions import review_decide
from accountability.models import Appeal, AuditLogEntry, ReviewItem
from accountability.review import review_claim_next, review_item_open
from accountability.statements import statement_create
from core.errors import ApplicationError
from tests.accountability.fixtures import balance, claim, make_held_job


def _statement(user, decider=None):
    return statement_create(
        user=user,
        subject_type="generation.job",
        subject_id="x",
        category="hate",
        decision="block",
        decision_ground="incompatible_content",
        facts="Hateful imagery.",
        automated_detection=True,
        automated_decision=decider is None,
        decided_by=decider,
    )


def _rule(appeal, moderator, outcome="upheld"):
    template = "policy_confirmed" if outcome == "upheld" else "mistaken"
    return appeal_decide(
        appeal=appeal,
        moderator=moderator,
        outcome=outcome,
        reason_template=template,
        reason_text="Looked again.",
    )


def test_a_user_appeals_a_statement_once(subscriber) -> None:
    statement = _statement(subscriber)
    appeal = appeal_create(user=subscriber, statement_id=statement.pk, text="It was a painting.")
    item = ReviewItem.objects.get(kind="appeal")
    assert (item.subject_id, item.requires_senior) == (str(appeal.pk), True)
    with pytest.raises(ApplicationError) as refused:
        appeal_create(user=subscriber, statement_id=statement.pk, text="again")
    assert refused.value.status == 409
    assert Appeal.objects.count() == 1
    assert ReviewItem.objects.filter(kind="appeal").count() == 1


def test_a_foreign_statement_cannot_be_appealed(subscriber, other_user) -> None:
    statement = _statement(other_user)
    with pytest.raises(ApplicationError) as refused:
        appeal_create(user=subscriber, statement_id=statement.pk, text="mine?")
    assert refused.value.status == 404
    assert Appeal.objects.count() == 0


def test_only_a_senior_who_did_not_decide_rules(subscriber, moderator, senior, senior2) -> None:
    appeal = appeal_create(
        user=subscriber, statement_id=_statement(subscriber, senior).pk, text="wrong"
    )
    for refused_moderator in (moderator, senior):
        with pytest.raises(ApplicationError) as refused:
            _rule(appeal, refused_moderator)
        assert refused.value.status == 403
    appeal.refresh_from_db()
    assert (appeal.status, appeal.outcome) == ("open", "")
    assert review_claim_next(moderator=senior) is None  # the queue never offers it to them
    assert claim(senior2).subject_id == str(appeal.pk)
    ruled = _rule(appeal, senior2)
    assert (ruled.status, ruled.outcome, ruled.ruled_by) == ("decided", "upheld", senior2)
    assert ReviewItem.objects.get(kind="appeal").status == "decided"
    with pytest.raises(ApplicationError) as twice:
        _rule(appeal, senior2, "reversed")
    assert twice.value.status == 409


def test_an_upheld_appeal_tells_the_user(subscriber, senior, django_capture_on_commit_callbacks):
    appeal = appeal_create(user=subscriber, statement_id=_statement(subscriber).pk, text="no")
    with django_capture_on_commit_callbacks(execute=True):
        _rule(appeal, senior)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [subscriber.email]
    assert "upheld" in mail.outbox[0].subject
    appeal.refresh_from_db()
    assert appeal.user_notified_at is not None


def test_a_reversal_restores_the_job_and_credits_revokes_the_strike_and_tells_the_user(
    subscriber, moderator, senior, django_capture_on_commit_callbacks
) -> None:
    from moderation.models import Strike

    job = make_held_job(subscriber, credits=4)
    item = review_item_open(
        kind="output",
        subject_type="generation.job",
        subject_id=str(job.pk),
        user=subscriber,
        category="violence_graphic",
        severity=2,
    )
    decided = review_decide(
        item=item,
        moderator=moderator,
        action="reject_strike",
        reason_template="deliberate",
        reason_text="Gore.",
    )
    assert balance(subscriber) == (10, 0)
    appeal = appeal_create(user=subscriber, statement_id=decided.statement_id, text="It is fake.")
    with django_capture_on_commit_callbacks(execute=True):
        _rule(appeal, senior, "reversed")
    job.refresh_from_db()
    assert job.status == "succeeded"
    assert job.credits_charged == 0
    assert balance(subscriber) == (10, 0)
    strike = Strike.objects.get(user=subscriber)
    assert strike.revoked_at is not None and strike.revoked_by == senior
    assert "reversed" in mail.outbox[0].subject
    assert AuditLogEntry.objects.filter(action="appeal.reversed").count() == 1
    page = pytest.importorskip("django.test").Client()
    page.force_login(subscriber)
    body = page.get(
        reverse("accountability:statement-detail", args=[decided.statement_id])
    ).content.decode()
    assert "Decision reversed" in body


def test_reversing_a_suspension_reactivates_the_account(subscriber, moderator, senior) -> None:
    job = make_held_job(subscriber)
    item = review_item_open(
        kind="output", subject_type="generation.job", subject_id=str(job.pk), user=subscriber,
        category="violence_graphic", severity=3,
    )  # fmt: skip
    decided = review_decide(
        item=item, moderator=moderator, action="suspend", reason_template="serious_violation",
        reason_text="x",
    )  # fmt: skip
    subscriber.refresh_from_db()
    assert subscriber.account_state == "suspended"
    appeal = appeal_create(user=subscriber, statement_id=decided.statement_id, text="mistake")
    _rule(appeal, senior, "reversed")
    subscriber.refresh_from_db()
    assert subscriber.account_state == "active"


def test_reversing_the_strike_that_caused_a_cooldown_lifts_it(
    subscriber, moderator, senior
) -> None:
    from moderation.policy import policy_compiled

    threshold = int(policy_compiled().document["strikes"]["cooldown_at"])
    job = make_held_job(subscriber)
    item = review_item_open(
        kind="output", subject_type="generation.job", subject_id=str(job.pk), user=subscriber,
        category="violence_graphic", severity=min(5, threshold),
    )  # fmt: skip
    decided = review_decide(
        item=item, moderator=moderator, action="reject_strike", reason_template="deliberate",
        reason_text="Gore.",
    )  # fmt: skip
    subscriber.refresh_from_db()
    assert subscriber.account_state == "cooldown"
    appeal = appeal_create(user=subscriber, statement_id=decided.statement_id, text="mistake")
    _rule(appeal, senior, "reversed")
    subscriber.refresh_from_db()
    assert subscriber.account_state == "active"
