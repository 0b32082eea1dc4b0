"""Statements of reasons (DSA Art. 17): created by every restricting decision."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction

from accountability.audit import audit_record
from accountability.dsa import EEA_COUNTRIES
from accountability.models import (
    AutomatedDecision,
    ContentType,
    DecisionAccount,
    DecisionGround,
    DecisionProvision,
    DecisionVisibility,
    SourceType,
    StatementOfReasons,
)
from core import categories

# What each decision restricts, in the DSA's four dimensions.
DECISION_EFFECTS: dict[str, dict[str, str]] = {
    "content_blocked": {"decision_visibility": DecisionVisibility.CONTENT_REMOVED},
    "content_removed": {"decision_visibility": DecisionVisibility.CONTENT_REMOVED},
    "content_disabled": {"decision_visibility": DecisionVisibility.CONTENT_DISABLED},
    "account_cooldown": {"decision_provision": DecisionProvision.PARTIAL_SUSPENSION},
    "account_suspended": {"decision_account": DecisionAccount.SUSPENDED},
    "account_locked": {"decision_account": DecisionAccount.SUSPENDED},
    "account_banned": {"decision_account": DecisionAccount.TERMINATED},
}
DECISION_ALIASES = {
    "block": "content_blocked",
    "blocked": "content_blocked",
    "reject": "content_blocked",
    "rejected": "content_blocked",
    "remove": "content_removed",
    "removed": "content_removed",
    "cooldown": "account_cooldown",
    "suspend": "account_suspended",
    "suspended": "account_suspended",
    "lock": "account_locked",
    "locked": "account_locked",
    "ban": "account_banned",
    "banned": "account_banned",
}


def normalise_decision(decision: str) -> str:
    return DECISION_ALIASES.get(decision, decision)


def _content_type_for(subject_type: str) -> str:
    subject = subject_type.lower()
    if "prompt" in subject:
        return ContentType.TEXT
    if subject.endswith("user") or "account" in subject:
        return ContentType.OTHER
    return ContentType.SYNTHETIC_MEDIA


def _automated_decision(value: bool | str) -> str:
    if isinstance(value, str):
        return AutomatedDecision(value).value
    return AutomatedDecision.FULLY if value else AutomatedDecision.NOT_AUTOMATED


def statement_create(
    *,
    user: Any,
    subject_type: str,
    subject_id: str,
    category: str,
    decision: str,
    decision_ground: str,
    facts: str,
    automated_detection: bool,
    automated_decision: bool | str,
    decided_by: Any | None = None,
    content_type: str | None = None,
    source_type: str = SourceType.VOLUNTARY,
    decision_visibility: str | None = None,
    decision_account: str | None = None,
    decision_provision: str | None = None,
) -> StatementOfReasons:
    """Record why a user's content or account was restricted, and audit it.

    ``decision`` is one of ``DECISION_EFFECTS`` (or an alias such as ``block``,
    ``suspend``, ``ban``); an unknown decision is kept as a DSA "other" visibility
    restriction. ``automated_decision`` is True (fully automated), False (a human
    decided), or one of ``fully``/``partially``/``not_automated``. The keyword arguments
    after ``decided_by`` extend the contract and are optional.
    """
    decision = normalise_decision(decision)
    ground = DecisionGround(decision_ground).value
    effects: dict[str, str] = dict(
        DECISION_EFFECTS.get(
            decision,
            {
                "decision_visibility": DecisionVisibility.OTHER,
                "decision_visibility_other": decision,
            },
        )
    )
    for field, override in (
        ("decision_visibility", decision_visibility),
        ("decision_account", decision_account),
        ("decision_provision", decision_provision),
    ):
        if override is not None:
            effects[field] = override
    if ground == DecisionGround.ILLEGAL_CONTENT:
        known = categories.BY_KEY.get(category)
        reference = (known.legal_ground if known else "") or (
            "National law of the Member State concerned"
        )
    else:
        known = categories.BY_KEY.get(category)
        reference = known.policy_section if known else "Imagegate terms of service"
    statement_id = uuid.uuid4()
    with transaction.atomic():
        statement = StatementOfReasons.objects.create(
            id=statement_id,
            user=user,
            subject_type=subject_type,
            subject_id=str(subject_id),
            category=category,
            decision=decision[:32],
            ground_reference=reference,
            decision_ground=ground,
            content_type=content_type or _content_type_for(subject_type),
            facts=facts,
            automated_detection=automated_detection,
            automated_decision=_automated_decision(automated_decision),
            source_type=SourceType(source_type).value,
            territorial_scope=list(EEA_COUNTRIES),
            puid=str(statement_id),
            decided_by=decided_by,
            **effects,
        )
        audit_record(
            actor=decided_by or "system",
            action="statement.create",
            target=statement,
            after={
                "user": str(user.pk) if user is not None else None,
                "subject": f"{subject_type}:{subject_id}",
                "category": category,
                "decision": decision,
                "decision_ground": ground,
                "automated_decision": statement.automated_decision,
            },
            reason=facts,
        )
    return statement
