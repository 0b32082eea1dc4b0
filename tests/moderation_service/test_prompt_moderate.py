from __future__ import annotations

import pytest

from accountability.models import AuditLogEntry, CsamCase, LegalHold, StatementOfReasons
from accounts.models import AccountState, Jurisdiction, User
from core.errors import ApplicationError
from moderation.models import ModerationDecision, PolicyVersion, PromptLog, Strike
from moderation.policy import policy_publish
from moderation.services import prompt_moderate
from tests.moderation_service.conftest import FakeScorer, fixed_document

# The synchronous decision of every layer, classifier included: the request stage.
# The same decisions made by the deep check on the queue: test_deep_check.py.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("classifier_in_request")]


def _moderate(user: User, prompt: str, jurisdiction: Jurisdiction, **kwargs) -> ModerationDecision:
    return prompt_moderate(
        user=user, prompt=prompt, negative_prompt="", jurisdiction=jurisdiction, **kwargs
    )


def test_an_ordinary_prompt_is_allowed_and_logged(
    policy: PolicyVersion, member: User, jurisdiction: Jurisdiction
) -> None:
    decision = _moderate(member, "a watercolour of a lighthouse", jurisdiction, ip_hash="abc")
    assert (decision.decision, decision.category, decision.layer) == ("allow", "", "")
    log = PromptLog.objects.get()
    assert (log.user_id, log.ip_hash, log.jurisdiction, log.decision) == (
        member.pk,
        "abc",
        "DE",
        "allow",
    )
    # Every layer's scores are stored once, on the decision that names the log.
    assert log.scores == {}
    assert list(log.decisions.all()) == [decision]
    assert set(decision.scores) >= {"normalisation", "rules", "classifier", "thresholds"}
    assert decision.statement is None
    assert not Strike.objects.exists()


def test_a_rule_block_records_span_layer_and_scores(
    policy: PolicyVersion, member: User, jurisdiction: Jurisdiction
) -> None:
    decision = _moderate(member, "explicit porn of a woman", jurisdiction)
    assert (decision.decision, decision.category, decision.layer) == ("block", "sexual", "rules")
    assert decision.span == (9, 13)
    assert decision.matched_text == "porn"
    assert "sexual_explicit" in {r["group"] for r in decision.scores["rules"]}
    assert PromptLog.objects.get().decision == "block"


def test_block_creates_a_strike_and_a_statement(
    policy: PolicyVersion, member: User, jurisdiction: Jurisdiction
) -> None:
    decision = _moderate(member, "explicit porn of a woman", jurisdiction)
    strike = Strike.objects.get(user=member)
    assert (strike.category, strike.severity, strike.decision) == ("sexual", 2, decision)
    statement = StatementOfReasons.objects.get(user=member)
    assert decision.statement == statement
    assert statement.category == "sexual"
    assert statement.automated_detection is True
    assert statement.automated_decision == "fully"
    assert statement.strike_ids == [str(strike.pk)]
    assert "porn" in statement.facts
    assert AuditLogEntry.objects.filter(action="moderation.prompt_block").count() == 1
    member.refresh_from_db()
    assert member.account_state == AccountState.ACTIVE


def test_review_band_holds_without_strike(
    policy: PolicyVersion, scorer: FakeScorer, member: User, jurisdiction: Jurisdiction
) -> None:
    scorer.next_scores = {"violence_graphic": 0.6}
    decision = _moderate(member, "a knight after the battle", jurisdiction)
    assert (decision.decision, decision.category, decision.layer) == (
        "review",
        "violence_graphic",
        "classifier",
    )
    assert decision.scores["classifier"]["violence_graphic"] == 0.6
    assert not Strike.objects.exists()
    assert not StatementOfReasons.objects.exists()


def test_a_regional_threshold_only_the_classifier_crosses_holds_without_a_strike(
    senior: User, scorer: FakeScorer, member: User
) -> None:
    policy_publish(
        actor=senior, document=fixed_document(regional_min_unsafe=0.3), reason="test floor"
    )
    scorer.next_scores = {"violence_graphic": 0.45}  # under the policy's own 0.5
    default = Jurisdiction(country="GB", name="United Kingdom")
    strict = Jurisdiction(
        country="AU",
        name="Australia",
        moderation_overrides={"violence_graphic": {"allow": 0.2, "block": 0.4}},
    )
    assert _moderate(member, "a knight after the battle", default).decision == "allow"
    decision = _moderate(member, "a knight after the battle", strict)
    # Over the regional block bound too, yet only held: the classifier alone decided.
    assert (decision.decision, decision.category, decision.layer) == (
        "review",
        "violence_graphic",
        "classifier",
    )
    assert decision.scores["regional"] == {
        "jurisdiction": "AU",
        "category": "violence_graphic",
        "score": 0.45,
        "limits": {"allow": 0.2, "block": 0.4},
        "unsafe": 0.45,
        "rule": "a stricter regional threshold that only the classifier crosses: "
        "held for review, no strike",
    }
    assert decision.scores["jurisdiction_limits"]["violence_graphic"] == {
        "allow": 0.2,
        "block": 0.4,
    }
    assert not Strike.objects.exists()
    statement = StatementOfReasons.objects.get()
    assert decision.statement == statement
    assert "stricter regional rule for AU" in statement.facts
    assert "No strike" in statement.facts
    assert statement.decision_visibility_other == "held_for_review"
    assert decision.prompt_log is not None and decision.prompt_log.jurisdiction == "AU"


def test_a_regional_threshold_is_no_signal_below_the_unsafe_floor(
    senior: User, scorer: FakeScorer, member: User
) -> None:
    policy_publish(
        actor=senior, document=fixed_document(regional_min_unsafe=0.3), reason="test floor"
    )
    scorer.next_scores = {"violence_graphic": 0.25}
    strict = Jurisdiction(
        country="AU",
        name="Australia",
        moderation_overrides={"violence_graphic": {"allow": 0.2, "block": 0.4}},
    )
    decision = _moderate(member, "a castle on a foggy morning", strict)
    assert (decision.decision, decision.category) == ("allow", "")
    assert "regional" not in decision.scores
    assert not StatementOfReasons.objects.exists()


def test_in_a_strict_jurisdiction_the_policy_own_block_still_blocks(
    policy: PolicyVersion, scorer: FakeScorer, member: User
) -> None:
    scorer.next_scores = {"violence_graphic": 0.95}
    strict = Jurisdiction(
        country="AU",
        name="Australia",
        moderation_overrides={"violence_graphic": {"allow": 0.2, "block": 0.4}},
    )
    decision = _moderate(member, "a knight after the battle", strict)
    assert (decision.decision, decision.category) == ("block", "violence_graphic")
    assert "regional" not in decision.scores
    assert Strike.objects.count() == 1


def test_a_jurisdiction_override_never_loosens(
    policy: PolicyVersion, scorer: FakeScorer, member: User
) -> None:
    scorer.next_scores = {"violence_graphic": 0.95}
    loose = Jurisdiction(
        country="XX",
        name="Loose",
        moderation_overrides={"violence_graphic": {"allow": 0.99, "block": 1.0}},
    )
    assert _moderate(member, "a knight after the battle", loose).decision == "block"


def test_strike_thresholds_cool_down_then_suspend(
    policy: PolicyVersion, member: User, jurisdiction: Jurisdiction
) -> None:
    # sexual weighs 2; cool-down at 3, suspension at 6 (default policy).
    _moderate(member, "explicit porn of a woman", jurisdiction)
    member.refresh_from_db()
    assert member.account_state == AccountState.ACTIVE
    _moderate(member, "explicit porn of a woman", jurisdiction)
    member.refresh_from_db()
    assert member.account_state == AccountState.COOLDOWN
    assert member.cooldown_until is not None
    assert StatementOfReasons.objects.filter(user=member, decision="account_cooldown").exists()
    _moderate(member, "explicit porn of a woman", jurisdiction)
    member.refresh_from_db()
    assert member.account_state == AccountState.SUSPENDED
    assert "strike weight 6" in member.account_state_reason
    assert StatementOfReasons.objects.filter(user=member, decision="account_suspended").exists()


def test_sexual_minors_locks_the_account_holds_data_and_opens_a_csam_case(
    policy: PolicyVersion, member: User, jurisdiction: Jurisdiction
) -> None:
    decision = _moderate(member, "a 14 year old nude", jurisdiction, ip_hash="iphash")
    assert (decision.decision, decision.category) == ("block", "sexual_minors")
    member.refresh_from_db()
    assert member.account_state == AccountState.SUSPENDED
    assert "CSAM" in member.account_state_reason
    assert LegalHold.objects.filter(user=member, released_at__isnull=True).exists()
    case = CsamCase.objects.get(user=member)
    assert case.evidence["prompt"] == "a 14 year old nude"
    assert case.evidence["ip_hash"] == "iphash"
    assert case.evidence["decision_id"] == str(decision.pk)
    assert case.evidence["hashes"][0]["file_name"] == "prompt.txt"
    assert Strike.objects.get(user=member).severity == 5
    statement = decision.statement
    assert statement is not None
    assert statement.decision_ground == "illegal_content"
    assert statement.decision_account == "suspended"


def test_an_over_length_prompt_is_rejected_and_nothing_is_recorded(
    policy: PolicyVersion, member: User, jurisdiction: Jurisdiction
) -> None:
    limit = policy.document["max_prompt_chars"]
    with pytest.raises(ApplicationError) as raised:
        _moderate(member, "a lighthouse " * (limit // 10), jurisdiction)
    assert raised.value.code == "invalid_request"
    assert "prompt" in raised.value.details
    assert not PromptLog.objects.exists()
    assert not ModerationDecision.objects.exists()
    from generation.models import GenerationJob

    assert not GenerationJob.objects.exists()


def test_a_prompt_at_the_limit_is_moderated_whole(
    policy: PolicyVersion, member: User, jurisdiction: Jurisdiction
) -> None:
    limit = policy.document["max_prompt_chars"]
    prompt = ("a calm sea " * limit)[: limit - 5] + " porn"
    decision = _moderate(member, prompt, jurisdiction)
    assert (decision.decision, decision.category) == ("block", "sexual")
    assert decision.span == (limit - 4, limit)


def test_adult_content_is_allowed_only_for_listed_plans_and_jurisdictions(
    senior: User, scorer: FakeScorer, member: User, jurisdiction: Jurisdiction, monkeypatch
) -> None:
    policy_publish(
        actor=senior,
        document=fixed_document(adult_content={"plans": ["pro"], "jurisdictions": ["DE"]}),
        reason="adult content for pro in DE",
    )
    monkeypatch.setattr("moderation.services._plan_code", lambda user: "pro")
    adult = _moderate(member, "explicit porn of a woman", jurisdiction)
    assert adult.decision == "allow"
    assert adult.scores["adult_content_allowed"] is True
    minors = _moderate(member, "a 14 year old nude porn", jurisdiction)
    assert (minors.decision, minors.category) == ("block", "sexual_minors")
    elsewhere = Jurisdiction(country="US", region="US-TX", name="Texas")
    assert _moderate(member, "explicit porn of a woman", elsewhere).decision == "block"
    monkeypatch.setattr("moderation.services._plan_code", lambda user: "premium")
    assert _moderate(member, "explicit porn of a woman", jurisdiction).decision == "block"
