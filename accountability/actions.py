"""The review actions (SPEC §8) as data: one entry per action says everything about it.

An action's entry names its key and label, the console's shortcut key, the review kinds
it applies to, who may take it (a predicate from ``accounts.roles``), the reasons a
moderator may choose (each a sentence that opens the statement of reasons), and what it
does: its ``effect`` (``approve``, ``restrict`` or ``escalate``, carried out by
``accountability.decisions``), whether it strikes the account and which account state it
sets, and the statement of reasons it records (``statement_decision``, one of
``accountability.statements.DECISION_EFFECTS``, and the DSA account restriction).

``review_decide``, the console's decision form (its buttons, shortcut keys and reason
lists are rendered from here) and its form validation all read this registry; a new
action is one entry here (and, for a new kind of effect, one function in
``decisions``). ``tests/accountability/test_actions.py`` fails when an entry lacks a piece.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from accountability.models import DecisionAccount, DecisionVisibility, ReviewKind
from accounts.models import AccountState
from accounts.roles import user_can_review, user_is_senior_moderator


class Effect(enum.StrEnum):
    """What deciding an item does; each is one function in ``accountability.decisions``."""

    APPROVE = "approve"  # the held job goes on (or the report is closed with no action)
    RESTRICT = "restrict"  # the content is blocked or taken down; a statement is recorded
    ESCALATE = "escalate"  # the item goes back to the queue for senior moderators


DECIDABLE_KINDS = frozenset({ReviewKind.PROMPT, ReviewKind.OUTPUT, ReviewKind.REPORT})


@dataclass(frozen=True)
class ReviewAction:
    key: str
    label: str
    shortcut: str  # one key in the console ("" for none)
    kinds: frozenset[str]  # the review kinds it applies to
    may_take: Callable[[Any], bool]  # who may take it: a predicate of accounts.roles
    refusal: str  # the 403 message for anyone else
    reasons: Mapping[str, str]  # reason key -> the sentence that opens the statement
    effect: Effect
    strike: bool = False  # adds a strike to the account
    account_state: str | None = None  # an AccountState the account is set to
    # The statement of reasons (restricting actions only): its decision and the DSA
    # restrictions it records.
    statement_decision: str | None = None
    statement_visibility: str | None = None
    statement_account: str = DecisionAccount.NONE

    @property
    def restricts(self) -> bool:
        """Whether the action restricts the user (and so records a statement of reasons)."""
        return self.effect == Effect.RESTRICT

    @property
    def report_outcome(self) -> str:
        """The outcome stored on the reports an item decided this way closes."""
        return "no_action" if self.effect == Effect.APPROVE else self.key

    @property
    def reasons_json(self) -> str:
        """The reasons as JSON ``[key, sentence]`` pairs, in order, for the console's form
        (an HTML attribute, escaped by the template)."""
        return json.dumps([[key, text] for key, text in self.reasons.items()])


def _reasons(**sentences: str) -> Mapping[str, str]:
    return MappingProxyType(sentences)


_REMOVED = DecisionVisibility.CONTENT_REMOVED

REVIEW_ACTIONS: tuple[ReviewAction, ...] = (
    ReviewAction(
        key="approve",
        label="Approve",
        shortcut="a",
        kinds=DECIDABLE_KINDS,
        may_take=user_can_review,
        refusal="Only moderators approve.",
        reasons=_reasons(
            within_policy="The content is within the content policy.",
            false_positive="The automated check was mistaken; nothing breaks the policy.",
            report_unfounded="The reported image does not break the content policy.",
        ),
        effect=Effect.APPROVE,
    ),
    ReviewAction(
        key="reject",
        label="Reject",
        shortcut="r",
        kinds=DECIDABLE_KINDS,
        may_take=user_can_review,
        refusal="Only moderators reject.",
        reasons=_reasons(
            breaks_policy="The content breaks the content policy in the category stated.",
            real_person="The content sexualises or degrades a real, identifiable person.",
            graphic="The content shows graphic violence or gore.",
            adult_not_allowed="Adult sexual content is not allowed on this plan or in this region.",
            sexualises_minor="The content sexualises a minor (zero tolerance): the account is "
            "locked and a CSAM case opened.",
        ),
        effect=Effect.RESTRICT,
        statement_decision="content_blocked",
        statement_visibility=_REMOVED,
    ),
    ReviewAction(
        key="reject_strike",
        label="Reject + strike",
        shortcut="s",
        kinds=DECIDABLE_KINDS,
        may_take=user_can_review,
        refusal="Only moderators reject.",
        reasons=_reasons(
            deliberate="The request deliberately tried to get around the content policy.",
            repeated="The account has repeatedly asked for content the policy forbids.",
            breaks_policy="The content clearly breaks the content policy.",
        ),
        effect=Effect.RESTRICT,
        strike=True,
        statement_decision="content_blocked",
        statement_visibility=_REMOVED,
    ),
    ReviewAction(
        key="escalate",
        label="Escalate",
        shortcut="e",
        kinds=DECIDABLE_KINDS,
        may_take=user_can_review,
        refusal="Only moderators escalate.",
        reasons=_reasons(
            unsure="Unsure; a senior moderator should decide.",
            possible_minor="A minor may be depicted or implied.",
            legal="This may need legal review.",
        ),
        effect=Effect.ESCALATE,
    ),
    ReviewAction(
        key="suspend",
        label="Suspend account",
        shortcut="",
        kinds=DECIDABLE_KINDS,
        may_take=user_can_review,
        refusal="Only moderators suspend.",
        reasons=_reasons(
            serious_violation="A serious violation: the account is suspended pending review.",
            repeated="Repeated violations after earlier strikes.",
        ),
        effect=Effect.RESTRICT,
        strike=True,
        account_state=AccountState.SUSPENDED,
        statement_decision="account_suspended",
        statement_visibility=_REMOVED,
        statement_account=DecisionAccount.SUSPENDED,
    ),
    ReviewAction(
        key="ban",
        label="Ban account",
        shortcut="",
        kinds=DECIDABLE_KINDS,
        may_take=user_is_senior_moderator,
        refusal="Only senior moderators ban.",
        reasons=_reasons(
            severe="A severe violation: the account is terminated.",
            evasion="The account was used to evade an earlier suspension or ban.",
        ),
        effect=Effect.RESTRICT,
        strike=True,
        account_state=AccountState.BANNED,
        statement_decision="account_banned",
        statement_visibility=_REMOVED,
        statement_account=DecisionAccount.TERMINATED,
    ),
)

BY_KEY: Mapping[str, ReviewAction] = MappingProxyType({a.key: a for a in REVIEW_ACTIONS})


def review_action(key: str) -> ReviewAction | None:
    return BY_KEY.get(key)


def actions_for(*, moderator: Any, kind: str, requires_senior: bool = False) -> list[ReviewAction]:
    """The actions this moderator may take on an item of this kind, in the console's order;
    no escalation of an item that is already for senior moderators only (escalated, or
    held in a category only seniors decide)."""
    return [
        a
        for a in REVIEW_ACTIONS
        if kind in a.kinds
        and a.may_take(moderator)
        and not (requires_senior and a.effect == Effect.ESCALATE)
    ]
