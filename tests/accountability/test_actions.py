"""The review actions registry (accountability.actions): every action is complete, and
the decision code, the statement of reasons, the DSA export and the console read it."""

from __future__ import annotations

import dataclasses
import html
import json
import re

import pytest
from django.urls import reverse

from accountability import dsa
from accountability.actions import BY_KEY, REVIEW_ACTIONS, Effect, ReviewAction
from accountability.decisions import EFFECTS_CARRIED_OUT
from accountability.models import DecisionAccount, ReviewKind, StatementOfReasons
from accountability.review import review_item_open
from accountability.statements import DECISION_EFFECTS, statement_create
from accounts import roles
from accounts.models import AccountState
from tests.accountability.fixtures import make_held_job

ROLE_PREDICATES = {roles.user_can_review, roles.user_is_senior_moderator}
CONSOLE_KEYS = {"v", "n"}  # reveal and claim-next: not for actions


def action_problems(action: ReviewAction) -> list[str]:
    """Every piece an action needs, and that its pieces agree with the records."""
    problems = []
    if not re.fullmatch(r"[a-z_]+", action.key):
        problems.append("key")
    if not action.label.strip():
        problems.append("label")
    if not action.kinds or not action.kinds <= set(ReviewKind.values) - {ReviewKind.APPEAL}:
        problems.append("kinds")
    if action.may_take not in ROLE_PREDICATES:
        problems.append("may_take: not a role of accounts.roles")
    if not action.refusal.strip():
        problems.append("refusal")
    if not action.reasons or not all(
        re.fullmatch(r"[a-z_]+", key) and text.strip().endswith(".")
        for key, text in action.reasons.items()
    ):
        problems.append("reasons")
    if action.effect not in EFFECTS_CARRIED_OUT:
        problems.append("effect: no function carries it out")
    if action.shortcut and (len(action.shortcut) != 1 or action.shortcut in CONSOLE_KEYS):
        problems.append("shortcut")
    if action.account_state is not None and action.account_state not in AccountState.values:
        problems.append("account_state")
    if action.restricts:
        if action.statement_decision not in DECISION_EFFECTS:
            problems.append("statement_decision")
        if action.statement_visibility not in dsa.DECISION_VISIBILITY:
            problems.append("statement_visibility")
        if action.statement_account not in {DecisionAccount.NONE, *dsa.DECISION_ACCOUNT}:
            problems.append("statement_account")
    elif (
        action.statement_decision
        or action.statement_visibility
        or action.strike
        or action.account_state
    ):
        problems.append("records or restricts without restricting")
    return problems


@pytest.mark.parametrize("action", REVIEW_ACTIONS, ids=lambda a: a.key)
def test_every_action_has_every_piece(action: ReviewAction) -> None:
    assert action_problems(action) == []


def test_the_check_finds_a_missing_piece() -> None:
    reject = BY_KEY["reject"]
    assert action_problems(dataclasses.replace(reject, reasons={})) == ["reasons"]
    assert action_problems(dataclasses.replace(reject, statement_decision=None)) == [
        "statement_decision"
    ]
    assert action_problems(dataclasses.replace(reject, may_take=lambda user: True)) == [
        "may_take: not a role of accounts.roles"
    ]
    approve = BY_KEY["approve"]
    assert action_problems(dataclasses.replace(approve, strike=True)) == [
        "records or restricts without restricting"
    ]


def test_keys_and_shortcuts_are_unique() -> None:
    keys = [a.key for a in REVIEW_ACTIONS]
    shortcuts = [a.shortcut for a in REVIEW_ACTIONS if a.shortcut]
    assert len(set(keys)) == len(keys) and set(BY_KEY) == set(keys)
    assert len(set(shortcuts)) == len(shortcuts)


def test_only_the_escalation_and_approval_record_nothing() -> None:
    assert {a.key for a in REVIEW_ACTIONS if not a.restricts} == {"approve", "escalate"}
    assert {a.key for a in REVIEW_ACTIONS if a.effect == Effect.ESCALATE} == {"escalate"}


@pytest.mark.django_db
@pytest.mark.parametrize("action", [a for a in REVIEW_ACTIONS if a.restricts], ids=lambda a: a.key)
def test_each_restricting_action_records_an_exportable_statement(
    action: ReviewAction, subscriber
) -> None:
    statement = statement_create(
        user=subscriber,
        subject_type="generation.job",
        subject_id="1",
        category="hate",
        decision=action.statement_decision or "",
        decision_ground="incompatible_content",
        facts=next(iter(action.reasons.values())),
        automated_detection=True,
        automated_decision=False,
        decision_visibility=action.statement_visibility,
        decision_account=action.statement_account,
    )
    statement = StatementOfReasons.objects.get(pk=statement.pk)
    record = dsa.statement_as_dsa(statement)
    assert dsa.validate_dsa_record(record) == []
    assert record["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    assert record["decision_account"] == dsa.DECISION_ACCOUNT.get(action.statement_account)


def _rendered_actions(page: str) -> dict[str, tuple[str | None, list[list[str]]]]:
    found = {}
    for tag in re.findall(r'<input type="radio" name="action"[^>]*>', page):
        key = re.search(r'value="([^"]+)"', tag)
        reasons = re.search(r'data-reason-options="([^"]*)"', tag)
        shortcut = re.search(r'data-shortcut="([^"]+)"', tag)
        assert key and reasons
        found[key.group(1)] = (
            shortcut.group(1) if shortcut else None,
            json.loads(html.unescape(reasons.group(1))),
        )
    return found


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["moderator", "senior"])
def test_the_console_form_renders_the_actions_the_user_may_take(
    who, subscriber, client_for, request
) -> None:
    user = request.getfixturevalue(who)
    job = make_held_job(subscriber)
    item = review_item_open(
        kind=job.hold_stage,
        subject_type="generation.job",
        subject_id=str(job.pk),
        user=subscriber,
        category="hate",
        severity=2,
    )
    page = client_for(user).get(reverse("console:item", args=[item.pk])).content.decode()
    rendered = _rendered_actions(page)
    expected = [a for a in REVIEW_ACTIONS if a.may_take(user)]
    assert list(rendered) == [a.key for a in expected]
    assert ("ban" in rendered) is (who == "senior")
    for action in expected:
        assert rendered[action.key] == (
            action.shortcut or None,
            [[k, v] for k, v in action.reasons.items()],
        )
