"""Deciding review items (SPEC §8): approve, reject, reject with a strike, escalate,
suspend, ban — each with a reason that becomes the statement of reasons."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from accountability.audit import audit_record
from accountability.models import (
    DecisionAccount,
    DecisionGround,
    DecisionVisibility,
    Report,
    ReportStatus,
    ReviewItem,
    ReviewKind,
    ReviewStatus,
    SourceType,
    StatementOfReasons,
)
from accountability.review import JOB_SUBJECT_TYPES, _priority_for, review_items_for
from accountability.statements import statement_create
from accounts.models import AccountState
from accounts.roles import user_is_senior_moderator
from accounts.services import account_set_state
from core.errors import ApplicationError, ErrorCode
from generation.models import GenerationJob
from generation.services import (
    generation_approve_held,
    generation_reject_held,
    generation_take_down,
)
from moderation.models import ModerationDecision
from moderation.services import strike_add

logger = logging.getLogger(__name__)


class Action:
    APPROVE = "approve"
    REJECT = "reject"
    REJECT_STRIKE = "reject_strike"
    ESCALATE = "escalate"
    SUSPEND = "suspend"
    BAN = "ban"


ACTIONS = (
    Action.APPROVE,
    Action.REJECT,
    Action.REJECT_STRIKE,
    Action.ESCALATE,
    Action.SUSPEND,
    Action.BAN,
)
RESTRICTING_ACTIONS = {Action.REJECT, Action.REJECT_STRIKE, Action.SUSPEND, Action.BAN}

# A reason is a template chosen from this list plus the moderator's own words; together
# they become the facts of the statement of reasons.
REASON_TEMPLATES: dict[str, dict[str, str]] = {
    Action.APPROVE: {
        "within_policy": "The content is within the content policy.",
        "false_positive": "The automated check was mistaken; nothing breaks the policy.",
        "report_unfounded": "The reported image does not break the content policy.",
    },
    Action.REJECT: {
        "breaks_policy": "The content breaks the content policy in the category stated.",
        "real_person": "The content sexualises or degrades a real, identifiable person.",
        "graphic": "The content shows graphic violence or gore.",
        "adult_not_allowed": "Adult sexual content is not allowed on this plan or in this region.",
    },
    Action.REJECT_STRIKE: {
        "deliberate": "The request deliberately tried to get around the content policy.",
        "repeated": "The account has repeatedly asked for content the policy forbids.",
        "breaks_policy": "The content clearly breaks the content policy.",
    },
    Action.ESCALATE: {
        "unsure": "Unsure; a senior moderator should decide.",
        "possible_minor": "A minor may be depicted or implied.",
        "legal": "This may need legal review.",
    },
    Action.SUSPEND: {
        "serious_violation": "A serious violation: the account is suspended pending review.",
        "repeated": "Repeated violations after earlier strikes.",
    },
    Action.BAN: {
        "severe": "A severe violation: the account is terminated.",
        "evasion": "The account was used to evade an earlier suspension or ban.",
    },
}


@dataclass(frozen=True)
class DecisionReason:
    template: str
    text: str

    def render(self, action: str) -> str:
        base = REASON_TEMPLATES[action][self.template]
        return f"{base} {self.text.strip()}".strip()


def check_reason(*, action: str, reason_template: str, reason_text: str) -> DecisionReason:
    """A reason needs a template from the action's list and some words of the moderator's."""
    errors: dict[str, list[str]] = {}
    if action not in REASON_TEMPLATES:
        errors["action"] = [f"Choose one of: {', '.join(ACTIONS)}."]
    elif reason_template not in REASON_TEMPLATES[action]:
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
    """Decide a held job or a report: approve, reject, reject with a strike, escalate,
    suspend or ban.

    Every decision is audited; every restricting one creates a statement of reasons.
    Bans are for senior moderators; appeals are ruled by ``appeal_decide``.
    """
    reason = check_reason(action=action, reason_template=reason_template, reason_text=reason_text)
    if not review_items_for(moderator=moderator).filter(pk=item.pk).exists():
        raise ApplicationError(ErrorCode.NOT_FOUND)
    if item.kind == ReviewKind.APPEAL:
        raise ApplicationError(ErrorCode.CONFLICT, "Appeals are ruled on, not decided here.")
    if action == Action.BAN and not user_is_senior_moderator(moderator):
        raise ApplicationError(ErrorCode.PERMISSION_DENIED, "Only senior moderators ban.")
    if action == Action.ESCALATE and item.requires_senior:
        raise ApplicationError(ErrorCode.CONFLICT, "This item is already escalated.")
    facts = reason.render(action)
    with transaction.atomic():
        locked = _lock_for_decision(item, moderator)
        before = {"status": locked.status, "requires_senior": locked.requires_senior}
        if action == Action.ESCALATE:
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
        statement = _apply(locked, moderator=moderator, action=action, facts=facts)
        locked.status = ReviewStatus.DECIDED
        locked.decided_by = moderator
        locked.decided_at = timezone.now()
        locked.decision = action
        locked.decision_reason = facts
        locked.statement = statement
        locked.claim_expires_at = None
        locked.save()
        audit_record(
            actor=moderator,
            action=f"review.{action}",
            target=locked,
            before=before,
            after={
                "status": locked.status,
                "decision": action,
                "statement": str(statement.pk) if statement else None,
            },
            reason=facts,
        )
    return locked


def _apply(
    item: ReviewItem, *, moderator: Any, action: str, facts: str
) -> StatementOfReasons | None:
    """Carry out the decision on its subject through the owning apps' services."""
    job = _job_for(item)
    if item.kind == ReviewKind.REPORT:
        _close_reports(item, outcome="no_action" if action == Action.APPROVE else action)
    if action == Action.APPROVE:
        if item.kind in (ReviewKind.PROMPT, ReviewKind.OUTPUT):
            if job is None:
                raise ApplicationError(ErrorCode.CONFLICT, "The held job no longer exists.")
            generation_approve_held(job=job, actor=moderator, reason=facts)
        return None

    if item.kind in (ReviewKind.PROMPT, ReviewKind.OUTPUT):
        if job is None:
            raise ApplicationError(ErrorCode.CONFLICT, "The held job no longer exists.")
        generation_reject_held(job=job, actor=moderator, reason=facts)
    elif item.kind == ReviewKind.REPORT:
        _take_down_reported_image(item, moderator=moderator, facts=facts)

    subject_user = item.user
    account_effect: dict[str, str] = {}
    decision = "content_blocked"
    if action == Action.SUSPEND:
        decision, account_effect = "account_suspended", {"decision_account": "suspended"}
    elif action == Action.BAN:
        decision, account_effect = "account_banned", {"decision_account": "terminated"}
    statement = statement_create(
        user=subject_user,
        subject_type=item.subject_type,
        subject_id=item.subject_id,
        category=item.category or "other",
        decision=decision,
        decision_ground=_ground_for(item.category),
        facts=facts,
        automated_detection=item.kind != ReviewKind.REPORT,
        automated_decision=False,
        decided_by=moderator,
        source_type=SourceType.ARTICLE_16 if item.kind == ReviewKind.REPORT else "voluntary",
        decision_visibility=DecisionVisibility.CONTENT_REMOVED,
        decision_account=account_effect.get("decision_account", DecisionAccount.NONE),
    )
    if subject_user is not None and action in (
        Action.REJECT_STRIKE,
        Action.SUSPEND,
        Action.BAN,
    ):
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
    if subject_user is not None and action in (Action.SUSPEND, Action.BAN):
        account_set_state(
            user=subject_user,
            state=AccountState.SUSPENDED if action == Action.SUSPEND else AccountState.BANNED,
            reason=facts,
            actor=moderator,
        )
    return statement


def _close_reports(item: ReviewItem, *, outcome: str) -> None:
    report_id = item.context.get("report_id")
    if report_id:
        Report.objects.filter(pk=report_id, status=ReportStatus.OPEN).update(
            status=ReportStatus.DECIDED, outcome=outcome, decided_at=timezone.now()
        )


def _take_down_reported_image(item: ReviewItem, *, moderator: Any, facts: str) -> None:
    """Remove a reported image from view (``generation_take_down``); refused when its
    job is gone, so no statement claims a removal that did not happen."""
    job = _job_for(item)
    if job is None:
        logger.warning("Cannot take down image %s: its job is gone", item.subject_id)
        raise ApplicationError(ErrorCode.CONFLICT, "The reported image no longer exists.")
    generation_take_down(job=job, actor=moderator, reason=facts)
