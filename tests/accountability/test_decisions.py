from __future__ import annotations

import pytest

from accountability.decisions import review_decide
from accountability.models import AuditLogEntry, ReviewItem, ReviewStatus, StatementOfReasons
from accountability.review import review_claim_next, review_item_open
from core.errors import ApplicationError
from tests.accountability.fixtures import balance, claim, make_held_job


def _item_for(job) -> ReviewItem:
    return review_item_open(
        kind=job.hold_stage,
        subject_type="generation.job",
        subject_id=str(job.pk),
        user=job.user,
        category="violence_graphic",
        severity=3,
        context={"prompt": job.prompt, "image_ids": [str(i.pk) for i in job.images.all()]},
    )


def _decide(item, moderator, action, template):
    return review_decide(
        item=item,
        moderator=moderator,
        action=action,
        reason_template=template,
        reason_text="Checked by hand.",
    )


def test_approving_an_output_held_job_makes_it_visible_and_charged(subscriber, moderator) -> None:
    job = make_held_job(subscriber, credits=4)
    item = _item_for(job)
    assert balance(subscriber) == (6, 4)
    review_claim_next(moderator=moderator)
    decided = _decide(item, moderator, "approve", "false_positive")
    job.refresh_from_db()
    assert job.status == "succeeded"
    assert job.credits_charged == 4
    assert balance(subscriber) == (6, 0)
    assert decided.status == ReviewStatus.DECIDED and decided.decision == "approve"
    assert decided.statement is None
    assert StatementOfReasons.objects.count() == 0
    entry = AuditLogEntry.objects.get(action="review.approve")
    assert entry.actor_label == f"user:{moderator.pk}" and "Checked by hand." in entry.reason


def test_rejecting_a_held_job_blocks_it_releases_credits_and_explains(
    subscriber, moderator
) -> None:
    job = make_held_job(subscriber, credits=4)
    item = _item_for(job)
    decided = _decide(item, moderator, "reject", "graphic")
    job.refresh_from_db()
    assert job.status == "blocked"
    assert job.credits_charged == 0
    assert balance(subscriber) == (10, 0)
    statement = StatementOfReasons.objects.get()
    assert decided.statement == statement
    assert statement.user == subscriber
    assert (statement.decision, statement.decision_visibility) == (
        "content_blocked",
        "content_removed",
    )
    assert statement.decision_account == ""
    assert statement.automated_detection is True
    assert statement.automated_decision == "not_automated"
    assert statement.decided_by == moderator
    assert statement.facts.endswith("Checked by hand.")
    assert AuditLogEntry.objects.filter(action="review.reject").count() == 1
    assert AuditLogEntry.objects.filter(action="statement.create").count() == 1


def test_reject_with_strike_adds_a_strike_linked_to_the_statement(subscriber, moderator) -> None:
    from moderation.models import Strike

    job = make_held_job(subscriber)
    _decide(_item_for(job), moderator, "reject_strike", "deliberate")
    strike = Strike.objects.get(user=subscriber)
    assert strike.category == "violence_graphic" and strike.revoked_at is None
    assert StatementOfReasons.objects.get(decision="content_blocked").strike_ids == [str(strike.pk)]


def test_suspend_suspends_the_account_with_a_statement(subscriber, moderator) -> None:
    job = make_held_job(subscriber)
    _decide(_item_for(job), moderator, "suspend", "serious_violation")
    subscriber.refresh_from_db()
    assert subscriber.account_state == "suspended"
    statement = StatementOfReasons.objects.get(decided_by=moderator)
    assert (statement.decision, statement.decision_account) == ("account_suspended", "suspended")


def test_only_seniors_ban(subscriber, moderator, senior) -> None:
    job = make_held_job(subscriber)
    item = _item_for(job)
    with pytest.raises(ApplicationError) as refused:
        _decide(item, moderator, "ban", "severe")
    assert refused.value.status == 403
    subscriber.refresh_from_db()
    job.refresh_from_db()
    assert (subscriber.account_state, job.status) == ("active", "held_for_review")
    assert StatementOfReasons.objects.count() == 0
    _decide(item, senior, "ban", "severe")
    subscriber.refresh_from_db()
    assert subscriber.account_state == "banned"
    assert StatementOfReasons.objects.get(decided_by=senior).decision_account == "terminated"


def test_escalate_hands_the_item_to_seniors(subscriber, moderator, senior) -> None:
    job = make_held_job(subscriber)
    item = _item_for(job)
    review_claim_next(moderator=moderator)
    escalated = _decide(item, moderator, "escalate", "possible_minor")
    assert (escalated.status, escalated.requires_senior, escalated.claimed_by) == (
        "open",
        True,
        None,
    )
    assert review_claim_next(moderator=moderator) is None
    assert claim(senior).pk == item.pk
    job.refresh_from_db()
    assert job.status == "held_for_review"
    assert AuditLogEntry.objects.filter(action="review.escalate").count() == 1


@pytest.mark.parametrize(
    ("template", "text", "field"),
    [
        ("", "words", "reason_template"),
        ("graphic", "  ", "reason_text"),
        ("nope", "w", "reason_template"),
    ],
)
def test_a_decision_needs_a_template_and_free_text(
    subscriber, moderator, template, text, field
) -> None:
    job = make_held_job(subscriber)
    item = _item_for(job)
    with pytest.raises(ApplicationError) as refused:
        review_decide(
            item=item, moderator=moderator, action="reject", reason_template=template,
            reason_text=text,
        )  # fmt: skip
    assert refused.value.status == 400 and field in refused.value.details
    job.refresh_from_db()
    item.refresh_from_db()
    assert (job.status, item.status) == ("held_for_review", "open")
    assert StatementOfReasons.objects.count() == 0


def test_an_item_held_by_another_moderator_cannot_be_decided(
    subscriber, moderator, moderator2
) -> None:
    job = make_held_job(subscriber)
    item = _item_for(job)
    review_claim_next(moderator=moderator)
    with pytest.raises(ApplicationError) as refused:
        _decide(item, moderator2, "approve", "within_policy")
    assert refused.value.status == 409
    job.refresh_from_db()
    assert job.status == "held_for_review"


def test_a_decided_item_cannot_be_decided_again(subscriber, moderator) -> None:
    job = make_held_job(subscriber)
    item = _item_for(job)
    _decide(item, moderator, "reject", "graphic")
    with pytest.raises(ApplicationError):
        _decide(item, moderator, "approve", "within_policy")
    job.refresh_from_db()
    assert job.status == "blocked"
    assert StatementOfReasons.objects.count() == 1
