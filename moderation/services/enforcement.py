"""Enforcement: what a block does — strikes, statements of reasons, account states,
and the CSAM lock (rules in ``moderation.services``)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from accountability.audit import audit_record
from accountability.csam import csam_case_open
from accountability.models import DecisionAccount, DecisionGround
from accountability.statements import statement_create
from accounts.models import AccountState
from accounts.services import account_set_state
from core.errors import ApplicationError, ErrorCode
from moderation.models import Decision, ModerationDecision, Stage, Strike
from moderation.policy import CompiledPolicy, policy_compiled
from moderation.policy_document import StrikePolicy

logger = logging.getLogger(__name__)

ILLEGAL_CATEGORIES = frozenset({"sexual_minors", "illegal"})
LOCK_CATEGORIES = frozenset({"sexual_minors"})


# --- consequences ---------------------------------------------------------------------


def apply_consequences(
    record: ModerationDecision, compiled: CompiledPolicy, *, evidence: Mapping[str, Any]
) -> None:
    if record.decision == Decision.ALLOW:
        return
    audit_record(
        actor=None,
        action=f"moderation.{record.stage}_{record.decision}",
        target=record,
        after={
            "decision": record.decision,
            "category": record.category,
            "layer": record.layer,
            "policy_version": record.policy_version.number,
        },
        reason=f"automated {record.layer} decision",
    )
    if record.decision == Decision.REVIEW:
        # The generation app holds the job and opens its review item. A hold under a
        # regional rule restricts the content for a reason the user should read.
        if record.scores.get("regional"):
            _statement_for_regional_hold(record)
        return
    user = record.user
    locks = record.category in LOCK_CATEGORIES
    strike = None
    if record.category:  # a failed external check blocks without a strike
        strike = strike_add(
            user=user,
            category=record.category,
            severity=compiled.strike_weight(record.category, record.severity or 1),
            decision=record,
        )
    _statement_for(record, strike=strike, locks_account=locks)
    if locks:
        _lock_for_csam(record, evidence)


def _statement_for(
    record: ModerationDecision, *, strike: Strike | None, locks_account: bool
) -> None:
    what = "prompt" if record.stage == Stage.PROMPT else "generated image"
    facts = (
        f"The {what} was blocked by the automated {record.get_layer_display().lower()} layer "
        f"under moderation policy version {record.policy_version.number}"
    )
    facts += f": category {record.category}" if record.category else " (check unavailable)"
    if record.matched_text:
        facts += f', matched "{record.matched_text}"'
    if locks_account:
        facts += "; the account is locked pending review"
    extra: dict[str, Any] = {"decision_account": DecisionAccount.SUSPENDED} if locks_account else {}
    statement = statement_create(
        user=record.user,
        subject_type=record.subject_type or "moderation.decision",
        subject_id=record.subject_id or str(record.pk),
        category=record.category,
        decision="block",
        decision_ground=(
            DecisionGround.ILLEGAL_CONTENT
            if record.category in ILLEGAL_CATEGORIES
            else DecisionGround.INCOMPATIBLE_CONTENT
        ),
        facts=facts + ".",
        automated_detection=True,
        automated_decision=True,
        decided_by=None,
        **extra,
    )
    if strike is not None:
        statement.strike_ids = [str(strike.pk)]
        statement.save(update_fields=["strike_ids"])
    record.statement = statement
    record.save(update_fields=["statement"])


def _statement_for_regional_hold(record: ModerationDecision) -> None:
    """A statement for a prompt held only by a stricter regional threshold (no strike)."""
    regional = record.scores["regional"]
    where = regional.get("jurisdiction") or "the user's jurisdiction"
    limits = regional.get("limits", {})
    facts = (
        f"The prompt was held for human review, not blocked, under a stricter regional rule "
        f"for {where} (moderation policy version {record.policy_version.number}): the "
        f"automated text classifier scored category {record.category} at "
        f"{regional.get('score')}, above the regional review threshold "
        f"{limits.get('allow')}, while the policy's own thresholds allow it. No strike "
        "was added; a moderator decides."
    )
    statement = statement_create(
        user=record.user,
        subject_type=record.subject_type or "moderation.decision",
        subject_id=record.subject_id or str(record.pk),
        category=record.category,
        decision="held_for_review",
        decision_ground=DecisionGround.INCOMPATIBLE_CONTENT,
        facts=facts,
        automated_detection=True,
        automated_decision=True,
        decided_by=None,
    )
    record.statement = statement
    record.save(update_fields=["statement"])


def _lock_for_csam(record: ModerationDecision, evidence: Mapping[str, Any]) -> None:
    """Lock the account, hold its data, open a CSAM case with the evidence."""
    if record.user is None:  # the account is gone; the decision itself is the record
        logger.critical("sexual_minors decision %s has no account to lock", record.pk)
        return
    _lock_and_open_case(
        user=record.user,
        record=record,
        evidence=evidence,
        reason="Locked: sexual content involving minors was requested (CSAM case opened).",
        actor=None,
    )


def csam_confirm(
    *,
    user: Any,
    record: ModerationDecision | None,
    moderator: Any,
    evidence: Mapping[str, Any],
) -> None:
    """A moderator confirmed a held ``sexual_minors`` item (a classifier score alone, or
    an image in the minor-escalation band): the same lock, legal hold and CSAM case as
    an automated block, with the moderator named as the one who locked."""
    _lock_and_open_case(
        user=user,
        record=record,
        evidence={**evidence, "confirmed_by": str(moderator.pk)},
        reason="Locked: a moderator confirmed sexual content involving minors (case opened).",
        actor=moderator,
    )


def _lock_and_open_case(
    *,
    user: Any,
    record: ModerationDecision | None,
    evidence: Mapping[str, Any],
    reason: str,
    actor: Any,
) -> None:
    account_set_state(user=user, state=AccountState.SUSPENDED, reason=reason, actor=actor)
    # The case places the legal hold on the account's data ("CSAM case N").
    csam_case_open(
        user=user,
        decision=record,
        evidence={**evidence, **(_record_evidence(record) if record is not None else {})},
    )


def _record_evidence(record: ModerationDecision) -> dict[str, Any]:
    log = record.prompt_log
    hashes = [{"algorithm": "SHA256", "value": h, "file_name": f"image-{i}.png"}
              for i, h in enumerate(record.scores.get("image_sha256", []))]  # fmt: skip
    if log is not None:
        digest = hashlib.sha256(log.prompt.encode()).hexdigest()
        hashes.append({"algorithm": "SHA256", "value": digest, "file_name": "prompt.txt"})
    return {
        "hashes": hashes,
        "decision_id": str(record.pk),
        "stage": record.stage,
        "subject": f"{record.subject_type}:{record.subject_id}",
        "prompt": log.prompt if log else "",
        "negative_prompt": log.negative_prompt if log else "",
        "normalized_prompt": record.normalized_prompt,
        "matched_text": record.matched_text,
        "category": record.category,
        "layer": record.layer,
        "policy_version": record.policy_version.number,
        "scores": record.scores,
        "times": {
            "submitted_at": log.created_at.isoformat() if log else None,
            "decided_at": record.created_at.isoformat(),
        },
    }


# --- strikes --------------------------------------------------------------------------


def strike_add(
    *,
    user: Any,
    category: str,
    severity: int,
    decision: ModerationDecision | None,
    actor: Any = None,
) -> Strike:
    """Add a strike; active weight in the window at the policy's thresholds first cools
    the account down, then suspends it pending review (never loosens a stricter state)."""
    strikes = policy_compiled().policy.strikes
    with transaction.atomic():
        strike = Strike.objects.create(
            user=user,
            category=category,
            severity=max(0, int(severity)),
            decision=decision,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        audit_record(
            actor=actor,
            action="moderation.strike_add",
            target=strike,
            after={"user": str(user.pk), "category": category, "severity": strike.severity},
            reason=f"decision {decision.pk}" if decision else "",
        )
        since = timezone.now() - timedelta(days=strikes.window_days)
        total = (
            Strike.objects.filter(
                user=user, revoked_at__isnull=True, created_at__gte=since
            ).aggregate(total=Sum("severity"))["total"]
            or 0
        )
        if user.account_state in ("active", "cooldown"):
            _strike_thresholds(
                user=user, total=total, strikes=strikes, category=category, actor=actor
            )
    return strike


def _strike_thresholds(
    *, user: Any, total: int, strikes: StrikePolicy, category: str, actor: Any
) -> None:
    window = f"within {strikes.window_days} days"
    if total >= strikes.suspend_at:
        state, until = AccountState.SUSPENDED, None
        reason = (
            f"Suspended pending review: strike weight {total} {window} "
            f"reached {strikes.suspend_at}."
        )
    elif total >= strikes.cooldown_at:
        state = AccountState.COOLDOWN
        until = timezone.now() + timedelta(hours=strikes.cooldown_hours)
        reason = (
            f"Cooling down for {strikes.cooldown_hours} hours: strike weight {total} "
            f"{window} reached {strikes.cooldown_at}."
        )
    else:
        return
    account_set_state(user=user, state=state, reason=reason, actor=actor, until=until)
    statement_create(
        user=user,
        subject_type="accounts.user",
        subject_id=str(user.pk),
        category=category,
        decision="suspended" if state == AccountState.SUSPENDED else "cooldown",
        decision_ground=DecisionGround.INCOMPATIBLE_CONTENT,
        facts=reason,
        automated_detection=actor is None,
        automated_decision=True,
        decided_by=None,
    )


def strike_weight_active(*, user: Any) -> int:
    """The weight of the user's unrevoked strikes inside the policy's window."""
    window_days = policy_compiled().policy.strikes.window_days
    since = timezone.now() - timedelta(days=window_days)
    return int(
        Strike.objects.filter(user=user, revoked_at__isnull=True, created_at__gte=since).aggregate(
            total=Sum("severity")
        )["total"]
        or 0
    )


def strike_recheck_cooldown(*, user: Any, actor: Any, reason: str) -> bool:
    """Lift a running cool-down once revoked strikes bring the weight under its threshold.

    Only a cool-down is lifted: a suspension or ban is always a deliberate decision.
    Returns whether the account was restored.
    """
    user.refresh_from_db(fields=["account_state"])
    if user.account_state != AccountState.COOLDOWN:
        return False
    threshold = policy_compiled().policy.strikes.cooldown_at
    if strike_weight_active(user=user) >= threshold:
        return False
    account_set_state(user=user, state=AccountState.ACTIVE, reason=reason, actor=actor)
    return True


def strike_revoke(*, strike: Strike, actor: Any, reason: str) -> Strike:
    """Revoke a strike (e.g. an appeal succeeded); audited. The account state is not
    changed here: see ``strike_recheck_cooldown`` for lifting a cool-down it caused."""
    if not reason.strip():
        raise ApplicationError(
            ErrorCode.INVALID_REQUEST, details={"reason": ["A reason is required."]}
        )
    with transaction.atomic():
        updated = Strike.objects.filter(pk=strike.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(),
            revoked_by=actor if getattr(actor, "is_authenticated", False) else None,
            revoke_reason=reason,
        )
        strike.refresh_from_db()
        if updated:
            audit_record(
                actor=actor,
                action="moderation.strike_revoke",
                target=strike,
                before={"revoked_at": None},
                after={"revoked_at": strike.revoked_at},
                reason=reason,
            )
    return strike
