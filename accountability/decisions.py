"""Deciding review items (SPEC §8): approve, reject, reject with a strike, escalate,
suspend, ban — each with a reason that becomes the statement of reasons."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from accountability.actions import REVIEW_ACTIONS, Effect, ReviewAction, review_action
from accountability.audit import audit_record
from accountability.models import (
    DecisionAccount,
    DecisionGround,
    Report,
    ReportStatus,
    ReviewItem,
    ReviewKind,
    ReviewStatus,
    SourceType,
    StatementOfReasons,
)
from accountability.review import (
    JOB_SUBJECT_TYPES,
    SENIOR_CATEGORIES,
    SENIOR_KINDS,
    _priority_for,
    review_items_for,
)
from accountability.statements import statement_create
from accountability.tasks import notify_reporters
from accounts.models import AccountState
from accounts.services import account_set_state
from core.errors import ApplicationError, ErrorCode
from generation.models import GenerationJob
from generation.services import (
    generation_approve_held,
    generation_reject_held,
    generation_take_down,
)
from moderation.models import ModerationDecision
from moderation.services import csam_confirm, strike_add

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DecisionReason:
    template: str
    text: str

    def render(self, action: ReviewAction) -> str:
        base = action.reasons[self.template]
        return f"{base} {self.text.strip()}".strip()


def check_reason(*, action: str, reason_template: str, reason_text: str) -> DecisionReason:
    """A reason needs a template from the action's list and some words of the moderator's."""
    errors: dict[str, list[str]] = {}
    chosen = review_action(action)
    if chosen is None:
        errors["action"] = [f"Choose one of: {', '.join(a.key for a in REVIEW_ACTIONS)}."]
    elif reason_template not in chosen.reasons:
        errors["reason_template"] = ["Choose a reason from the list."]
    if not reason_text.strip():
        errors["reason_text"] = ["Explain the decision in your own words."]
    if errors:
        raise ApplicationError(ErrorCode.INVALID_REQUEST, details=errors)
    return DecisionReason(template=reason_template, text=reason_text)


# --- deciding ------------------------------------------------------------------------


def _job_for(item: ReviewItem) -> Any | None:
    if item.subject_type in JOB_SUBJECT_TYPES:
        job_id: Any = item.subject_id
    else:
        job_id = item.context.get("job_id")
    if not job_id:
        return None
    return GenerationJob.objects.filter(pk=job_id).first()


def _moderation_decision_for_item(item: ReviewItem, job: Any) -> Any | None:
    """The decision that held the item: the one its context names (an output hold
    names the output decision), else the job's prompt decision."""
    decision_id = item.context.get("decision_id")
    if decision_id:
        found = ModerationDecision.objects.filter(pk=decision_id).first()
        if found is not None:
            return found
    return _moderation_decision_for(job) if job is not None else None


def _moderation_decision_for(job: Any) -> Any | None:
    decision_id = getattr(job, "moderation_decision_id", None)
    if not decision_id:
        return None
    return ModerationDecision.objects.filter(pk=decision_id).first()


def _lock_for_decision(item: ReviewItem, moderator: Any) -> ReviewItem:
    locked = ReviewItem.objects.select_for_update().get(pk=item.pk)
    if locked.status == ReviewStatus.DECIDED:
        raise ApplicationError(ErrorCode.CONFLICT, "This item is already decided.")
    now = timezone.now()
    held_by_other = (
        locked.status == ReviewStatus.CLAIMED
        and locked.claimed_by_id != moderator.pk
        and locked.claim_expires_at is not None
        and locked.claim_expires_at >= now
    )
    if held_by_other:
        raise ApplicationError(ErrorCode.CONFLICT, "Another moderator holds this item.")
    return locked


def _ground_for(category: str) -> str:
    if category == "sexual_minors":
        return DecisionGround.ILLEGAL_CONTENT
    return DecisionGround.INCOMPATIBLE_CONTENT


def review_decide(
    *,
    item: ReviewItem,
    moderator: Any,
    action: str,
    reason_template: str,
    reason_text: str,
) -> ReviewItem:
    """Decide a held job or a report with one of ``accountability.actions.REVIEW_ACTIONS``
    (approve, reject, reject with a strike, escalate, suspend or ban).

    Every decision is audited; every restricting one creates a statement of reasons.
    Who may take an action is the registry's (bans are for senior moderators); appeals
    are ruled by ``appeal_decide``.
    """
    reason = check_reason(action=action, reason_template=reason_template, reason_text=reason_text)
    chosen = review_action(action)
    assert chosen is not None  # check_reason refused unknown actions
    if not review_items_for(moderator=moderator).filter(pk=item.pk).exists():
        raise ApplicationError(ErrorCode.NOT_FOUND)
    if item.kind not in chosen.kinds:
        if item.kind == ReviewKind.APPEAL:
            raise ApplicationError(ErrorCode.CONFLICT, "Appeals are ruled on, not decided here.")
        raise ApplicationError(ErrorCode.CONFLICT, f"{chosen.label} does not apply to this item.")
    if not chosen.may_take(moderator):
        raise ApplicationError(ErrorCode.PERMISSION_DENIED, chosen.refusal)
    if chosen.effect == Effect.ESCALATE and item.requires_senior:
        raise ApplicationError(
            ErrorCode.CONFLICT, "This item is already for senior moderators only."
        )
    facts = reason.render(chosen)
    with transaction.atomic():
        locked = _lock_for_decision(item, moderator)
        before = {"status": locked.status, "requires_senior": locked.requires_senior}
        if chosen.effect == Effect.ESCALATE:
            return _escalate(locked, moderator=moderator, before=before, facts=facts)
        statement = _EFFECTS[chosen.effect](locked, moderator=moderator, action=chosen, facts=facts)
        locked.status = ReviewStatus.DECIDED
        locked.decided_by = moderator
        locked.decided_at = timezone.now()
        locked.decision = chosen.key
        locked.decision_reason = facts
        locked.statement = statement
        locked.claim_expires_at = None
        locked.save()
        audit_record(
            actor=moderator,
            action=f"review.{chosen.key}",
            target=locked,
            before=before,
            after={
                "status": locked.status,
                "decision": chosen.key,
                "statement": str(statement.pk) if statement else None,
            },
            reason=facts,
        )
    return locked


def _escalate(
    locked: ReviewItem, *, moderator: Any, before: dict[str, Any], facts: str
) -> ReviewItem:
    """Back to the queue, for senior moderators only, at a higher priority."""
    locked.requires_senior = True
    locked.status = ReviewStatus.OPEN
    locked.claimed_by = None
    locked.claimed_at = None
    locked.claim_expires_at = None
    locked.severity = max(locked.severity, 4)
    locked.priority = _priority_for(locked.severity)
    locked.context = {**locked.context, "escalated_by": str(moderator.pk)}
    locked.save()
    audit_record(
        actor=moderator,
        action="review.escalate",
        target=locked,
        before=before,
        after={"status": locked.status, "requires_senior": True},
        reason=facts,
    )
    return locked


def _approve(
    item: ReviewItem, *, moderator: Any, action: ReviewAction, facts: str
) -> StatementOfReasons | None:
    """A held job goes on; a report is closed with no action. Nothing is recorded."""
    job = _job_for(item)
    if item.kind == ReviewKind.REPORT:
        _close_reports(item, outcome=action.report_outcome)
    if item.kind in (ReviewKind.PROMPT, ReviewKind.OUTPUT):
        if job is None:
            raise ApplicationError(ErrorCode.CONFLICT, "The held job no longer exists.")
        generation_approve_held(job=job, actor=moderator, reason=facts)
    return None


def _restrict(
    item: ReviewItem, *, moderator: Any, action: ReviewAction, facts: str
) -> StatementOfReasons | None:
    """Block the held job or take the reported image down, record the statement of
    reasons, and strike and restrict the account as the action says."""
    job = _job_for(item)
    if item.kind == ReviewKind.REPORT:
        _close_reports(item, outcome=action.report_outcome)
    if item.kind in (ReviewKind.PROMPT, ReviewKind.OUTPUT):
        if job is None:
            raise ApplicationError(ErrorCode.CONFLICT, "The held job no longer exists.")
        generation_reject_held(job=job, actor=moderator, reason=facts)
    elif item.kind == ReviewKind.REPORT:
        _take_down_reported_image(item, moderator=moderator, facts=facts)

    assert action.statement_decision is not None  # tests/accountability/test_actions.py
    subject_user = item.user
    # Confirmed by a senior moderator: the zero-tolerance lock and CSAM case (below).
    locks = (
        subject_user is not None
        and item.kind in SENIOR_KINDS
        and item.category in SENIOR_CATEGORIES
    )
    statement = statement_create(
        user=subject_user,
        subject_type=item.subject_type,
        subject_id=item.subject_id,
        category=item.category or "other",
        decision=action.statement_decision,
        decision_ground=_ground_for(item.category),
        facts=facts,
        automated_detection=item.kind != ReviewKind.REPORT,
        automated_decision=False,
        decided_by=moderator,
        source_type=SourceType.ARTICLE_16 if item.kind == ReviewKind.REPORT else "voluntary",
        decision_visibility=action.statement_visibility,
        decision_account=(
            DecisionAccount.SUSPENDED
            if locks and not action.statement_account
            else action.statement_account
        ),
    )
    if subject_user is not None and action.strike:
        strike = strike_add(
            user=subject_user,
            category=item.category or "other",
            severity=item.severity,
            decision=_moderation_decision_for(job) if job is not None else None,
            actor=moderator,
        )
        if getattr(strike, "pk", None) is not None:
            statement.strike_ids = [str(strike.pk)]
            statement.save(update_fields=["strike_ids"])
    if locks:
        record = _moderation_decision_for_item(item, job)
        csam_confirm(
            user=subject_user,
            record=record,
            moderator=moderator,
            evidence={
                "review_item_id": str(item.pk),
                "review_kind": item.kind,
                "decision_reason": facts,
                **({} if record is not None else {"context": item.context}),
            },
        )
    if (
        subject_user is not None
        and action.account_state is not None
        and not (locks and action.account_state == AccountState.SUSPENDED)
    ):
        account_set_state(
            user=subject_user,
            state=AccountState(action.account_state),
            reason=facts,
            actor=moderator,
        )
    return statement


_Effect = Callable[..., StatementOfReasons | None]
# The function that carries out each effect but escalation (which decides nothing).
_EFFECTS: dict[Effect, _Effect] = {Effect.APPROVE: _approve, Effect.RESTRICT: _restrict}
EFFECTS_CARRIED_OUT = frozenset({*_EFFECTS, Effect.ESCALATE})


def _close_reports(item: ReviewItem, *, outcome: str) -> None:
    report_id = item.context.get("report_id")
    if report_id:
        closed = Report.objects.filter(pk=report_id, status=ReportStatus.OPEN).update(
            status=ReportStatus.DECIDED, outcome=outcome, decided_at=timezone.now()
        )
        if closed:
            # The notifiers hear the outcome (DSA Art. 16(5)); a lost message is caught
            # by the periodic accountability.notify_reporters_pending.
            transaction.on_commit(lambda: notify_reporters.delay(str(report_id)), robust=True)


def _take_down_reported_image(item: ReviewItem, *, moderator: Any, facts: str) -> None:
    """Remove a reported image from view (``generation_take_down``); refused when its
    job is gone, so no statement claims a removal that did not happen."""
    job = _job_for(item)
    if job is None:
        logger.warning("Cannot take down image %s: its job is gone", item.subject_id)
        raise ApplicationError(ErrorCode.CONFLICT, "The reported image no longer exists.")
    generation_take_down(job=job, actor=moderator, reason=facts)
