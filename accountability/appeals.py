"""Appeals (DSA Art. 20): a user appeals a statement once; a senior moderator who did
not take the original decision rules; a reversal restores the content and credits,
revokes the strike and tells the user."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accountability.audit import audit_record
from accountability.models import (
    Appeal,
    AppealOutcome,
    AppealStatus,
    ReviewItem,
    ReviewKind,
    ReviewStatus,
    StatementOfReasons,
)
from accountability.review import IMAGE_SUBJECT_TYPES, JOB_SUBJECT_TYPES, review_item_open
from accountability.selectors import statement_get_for_user
from accounts.models import AccountState
from accounts.roles import user_is_senior_moderator
from accounts.services import account_set_state
from core.errors import ApplicationError, ErrorCode
from generation.models import GeneratedImage, GenerationJob
from generation.services import generation_restore
from moderation.models import Strike
from moderation.services import strike_recheck_cooldown, strike_revoke

logger = logging.getLogger(__name__)

APPEAL_REASON_TEMPLATES: dict[str, dict[str, str]] = {
    AppealOutcome.UPHELD: {
        "policy_confirmed": "On review, the content breaks the content policy as stated.",
        "no_new_information": "The appeal gives no information that changes the decision.",
    },
    AppealOutcome.REVERSED: {
        "mistaken": "On review, the original decision was mistaken.",
        "new_context": "The appeal gives context that shows the content is within the policy.",
        "disproportionate": "The restriction was disproportionate to what happened.",
    },
}


def appeal_create(*, user: Any, statement_id: Any, text: str) -> Appeal:
    """Appeal one of one's own statements, once. A foreign or unknown statement is 404;
    a second appeal of the same statement is 409 (a one-to-one constraint)."""
    if not text.strip():
        raise ApplicationError(ErrorCode.INVALID_REQUEST, details={"text": ["Required."]})
    statement = _own_statement(user=user, statement_id=statement_id)
    try:
        with transaction.atomic():
            appeal = Appeal.objects.create(statement=statement, user=user, text=text.strip())
            review_item_open(
                kind=ReviewKind.APPEAL,
                subject_type="accountability.appeal",
                subject_id=str(appeal.pk),
                user=user,
                category=statement.category,
                severity=3,
                context={
                    "statement_id": str(statement.pk),
                    "appeal_text": appeal.text,
                    "statement_facts": statement.facts,
                    "statement_decision": statement.decision,
                },
                requires_senior=True,
                excluded_moderator=statement.decided_by,
            )
            audit_record(
                actor=user,
                action="appeal.create",
                target=appeal,
                after={"statement": str(statement.pk)},
                # Not the user's text: the audit log is immutable, and erasure must be
                # able to remove what a person wrote (accounts/personal_data.py).
                reason="Appeal filed by the user.",
            )
    except IntegrityError:
        raise ApplicationError(ErrorCode.CONFLICT, "This statement was already appealed.") from None
    return appeal


def _own_statement(*, user: Any, statement_id: Any) -> StatementOfReasons:
    return statement_get_for_user(user=user, statement_id=statement_id)


def appeal_decide(
    *,
    appeal: Appeal,
    moderator: Any,
    outcome: str,
    reason_template: str,
    reason_text: str,
) -> Appeal:
    """Rule on an appeal. Only a senior moderator (or superuser) who did not take the
    original decision may rule; an appeal is ruled once."""
    if not user_is_senior_moderator(moderator):
        raise ApplicationError(ErrorCode.PERMISSION_DENIED, "Only senior moderators rule.")
    errors: dict[str, list[str]] = {}
    if outcome not in APPEAL_REASON_TEMPLATES:
        errors["outcome"] = ["Choose upheld or reversed."]
    elif reason_template not in APPEAL_REASON_TEMPLATES[outcome]:
        errors["reason_template"] = ["Choose a reason from the list."]
    if not reason_text.strip():
        errors["reason_text"] = ["Explain the ruling in your own words."]
    if errors:
        raise ApplicationError(ErrorCode.INVALID_REQUEST, details=errors)
    statement = appeal.statement
    if statement.decided_by_id is not None and statement.decided_by_id == moderator.pk:
        raise ApplicationError(
            ErrorCode.PERMISSION_DENIED, "You may not rule on an appeal of your own decision."
        )
    if appeal.user_id is not None and appeal.user_id == moderator.pk:
        raise ApplicationError(ErrorCode.PERMISSION_DENIED, "You may not rule on your own appeal.")
    reasons = f"{APPEAL_REASON_TEMPLATES[outcome][reason_template]} {reason_text.strip()}"
    with transaction.atomic():
        locked = Appeal.objects.select_for_update().get(pk=appeal.pk)
        if locked.status != AppealStatus.OPEN:
            raise ApplicationError(ErrorCode.CONFLICT, "This appeal is already decided.")
        if outcome == AppealOutcome.REVERSED:
            _reverse(statement, moderator=moderator, reason=reasons)
        now = timezone.now()
        locked.status = AppealStatus.DECIDED
        locked.outcome = outcome
        locked.ruled_by = moderator
        locked.reasons = reasons
        locked.decided_at = now
        locked.save(update_fields=["status", "outcome", "ruled_by", "reasons", "decided_at"])
        ReviewItem.objects.filter(
            kind=ReviewKind.APPEAL, subject_id=str(locked.pk), status__in=["open", "claimed"]
        ).update(
            status=ReviewStatus.DECIDED,
            decided_by=moderator,
            decided_at=now,
            decision=outcome,
            decision_reason=reasons,
            claim_expires_at=None,
        )
        audit_record(
            actor=moderator,
            action=f"appeal.{outcome}",
            target=locked,
            before={"status": AppealStatus.OPEN},
            after={"status": locked.status, "outcome": outcome, "statement": str(statement.pk)},
            reason=reasons,
        )
        transaction.on_commit(lambda: _notify(locked.pk))
    return locked


def _job_for_statement(statement: StatementOfReasons) -> Any | None:
    if statement.subject_type in JOB_SUBJECT_TYPES:
        return GenerationJob.objects.filter(pk=statement.subject_id).first()
    if statement.subject_type in IMAGE_SUBJECT_TYPES:
        image = GeneratedImage.objects.filter(pk=statement.subject_id).first()
        return image.job if image is not None else None
    return None


def _strikes_for_statement(statement: StatementOfReasons) -> list[Any]:
    linked = Strike.objects.filter(revoked_at__isnull=True, pk__in=statement.strike_ids)
    by_decision = Strike.objects.filter(revoked_at__isnull=True, decision__statement=statement)
    return list(linked | by_decision)


def _reverse(statement: StatementOfReasons, *, moderator: Any, reason: str) -> None:
    """Undo what the statement restricted, through the owning apps' services."""
    job = _job_for_statement(statement)
    if job is not None:
        generation_restore(job=job, actor=moderator, reason=reason)
    revoked_any = False
    for strike in _strikes_for_statement(statement):
        strike_revoke(strike=strike, actor=moderator, reason=reason)
        revoked_any = True
    user = statement.user
    if revoked_any and user is not None:
        # A cool-down the revoked strikes caused ends with them.
        strike_recheck_cooldown(user=user, actor=moderator, reason=reason)
    if (
        statement.decision_account
        and user is not None
        and user.account_state in (AccountState.SUSPENDED, AccountState.BANNED)
    ):
        account_set_state(user=user, state=AccountState.ACTIVE, reason=reason, actor=moderator)


def _notify(appeal_id: Any) -> None:
    appeal = Appeal.objects.select_related("statement", "user").get(pk=appeal_id)
    if appeal.user is None:
        return
    path = reverse("accountability:statement-detail", args=[appeal.statement_id])
    outcome = "reversed" if appeal.outcome == AppealOutcome.REVERSED else "upheld"
    body = (
        f"Your appeal of statement {appeal.statement_id} was decided: the decision was "
        f"{outcome}.\n\n{appeal.reasons}\n\n"
        f"Details: {settings.SITE_URL}{path}\n"
    )
    if outcome == "reversed":
        body += "Any restricted content is visible again and no credits were charged for it.\n"
    send_mail(f"Your appeal was decided: {outcome}", body, None, [appeal.user.email])
    Appeal.objects.filter(pk=appeal.pk).update(user_notified_at=timezone.now())
