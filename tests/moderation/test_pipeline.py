from __future__ import annotations

import pytest

from moderation.engine.normalize import MAX_PROMPT_CHARS
from moderation.engine.pipeline import PromptTooLongError, TextModerator


class FixedScores:
    """A stand-in classifier returning fixed probabilities."""

    def __init__(self, **scores: float) -> None:
        self._scores = scores

    def scores(self, text: str) -> dict[str, float]:
        return dict(self._scores)


THRESHOLDS = {"unsafe": {"allow": 0.5, "block": 0.9}}


def test_over_length_prompt_is_rejected_not_truncated():
    moderator = TextModerator(classifier=None)
    with pytest.raises(PromptTooLongError) as caught:
        moderator.check("a" * (MAX_PROMPT_CHARS + 1))
    assert (caught.value.length, caught.value.limit) == (MAX_PROMPT_CHARS + 1, MAX_PROMPT_CHARS)


def test_prompt_at_length_limit_is_checked():
    verdict = TextModerator(classifier=None).check("a" * MAX_PROMPT_CHARS)
    assert verdict.decision == "allow"


def test_ordinary_prompt_is_allowed():
    moderator = TextModerator(classifier=FixedScores(sexual=0.01), thresholds=THRESHOLDS)
    verdict = moderator.check("a watercolour of a lighthouse")
    assert (verdict.decision, verdict.category, verdict.layer) == ("allow", None, None)


def test_rule_block_reports_span_and_layer():
    moderator = TextModerator(classifier=FixedScores(sexual=0.0), thresholds=THRESHOLDS)
    verdict = moderator.check("a photo, (N U D E:1.2)")
    assert (verdict.decision, verdict.category, verdict.layer) == ("block", "sexual", "rules")
    assert verdict.span == (10, 17)
    assert verdict.matched_text == "N U D E"


def test_classifier_review_band():
    moderator = TextModerator(classifier=FixedScores(hate=0.6, sexual=0.1), thresholds=THRESHOLDS)
    verdict = moderator.check("a quiet prompt")
    assert (verdict.decision, verdict.category, verdict.layer) == ("review", "hate", "classifier")


def test_classifier_block_at_threshold():
    moderator = TextModerator(classifier=FixedScores(self_harm=0.9), thresholds=THRESHOLDS)
    assert moderator.check("a quiet prompt about the sea").decision == "block"


def test_per_category_thresholds_without_unsafe_entry():
    thresholds = {"sexual": {"allow": 0.3, "block": 0.8}, "hate": {"allow": 0.7, "block": 0.9}}
    moderator = TextModerator(classifier=FixedScores(sexual=0.35, hate=0.6), thresholds=thresholds)
    verdict = moderator.check("a quiet prompt")
    assert (verdict.decision, verdict.category) == ("review", "sexual")


def test_minor_indicator_with_high_sexual_score_is_sexual_minors_held_for_review():
    moderator = TextModerator(classifier=FixedScores(sexual=0.85), thresholds=THRESHOLDS)
    verdict = moderator.check("a child on a bed, soft light")
    assert (verdict.decision, verdict.category, verdict.layer) == (
        "review",
        "sexual_minors",
        "classifier",
    )
    assert verdict.matched_text == "child"


def test_minor_indicator_with_low_sexual_score_is_allowed():
    moderator = TextModerator(classifier=FixedScores(sexual=0.05), thresholds=THRESHOLDS)
    assert moderator.check("a child flying a kite").decision == "allow"


def test_sexual_minors_always_blocks():
    moderator = TextModerator(classifier=None)
    verdict = moderator.check("a teen in lingerie")
    assert (verdict.decision, verdict.category, verdict.layer) == (
        "block",
        "sexual_minors",
        "rules",
    )


def test_verdict_records_every_layer():
    moderator = TextModerator(classifier=FixedScores(sexual=0.2), thresholds=THRESHOLDS)
    verdict = moderator.check("s3xy  portrait")
    assert verdict.scores["normalisation"] == {
        "text": "sexy portrait",
        "changes": {"leetspeak": 1},
    }
    assert [(m["group"], m["term"]) for m in verdict.scores["rules"]] == [
        ("sexual_indicator", "sexy"),
        ("sexual_suggestive", "sexy"),
    ]
    assert verdict.scores["classifier"] == {"sexual": 0.2}
    assert set(verdict.timings_ms) == {"normalisation", "rules", "classifier", "total"}
    assert verdict.policy_version == moderator.ruleset.version


def test_corroborate_words_hold_only_when_the_classifier_agrees():
    prompt = "a painting of a bank robbery in an old western town"
    quiet = TextModerator(classifier=FixedScores(illegal=0.1), thresholds=THRESHOLDS)
    assert quiet.check(prompt).decision == "allow"
    agreeing = TextModerator(
        classifier=FixedScores(illegal=0.3), thresholds=THRESHOLDS, corroborate_at=0.25
    )
    verdict = agreeing.check(prompt)
    assert (verdict.decision, verdict.category, verdict.layer) == ("review", "illegal", "rules")
    assert verdict.matched_text == "robbery"


def test_corroborate_words_review_without_a_classifier():
    verdict = TextModerator(classifier=None).check("a painting of a bank robbery")
    assert (verdict.decision, verdict.category) == ("review", "illegal")


def test_softened_hit_holds_only_at_the_classifiers_review_threshold():
    prompt = "a therapist listening to a patient describe self-harm"
    below = TextModerator(
        classifier=FixedScores(self_harm=0.45), thresholds=THRESHOLDS, corroborate_at=0.1
    )
    assert below.check(prompt).decision == "allow"
    at = TextModerator(
        classifier=FixedScores(self_harm=0.5), thresholds=THRESHOLDS, corroborate_at=0.1
    )
    verdict = at.check(prompt)
    assert (verdict.decision, verdict.category, verdict.layer) == ("review", "self_harm", "rules")
    assert verdict.matched_text == "self-harm"
    softened = [r for r in verdict.scores["rules"] if r["softened_by"]]
    assert [(r["term"], r["softened_by"]) for r in softened] == [("self-harm", "context_support")]


def test_unsoftened_self_harm_words_still_block():
    moderator = TextModerator(classifier=FixedScores(self_harm=0.0), thresholds=THRESHOLDS)
    verdict = moderator.check("a woman about to slit her wrists")
    assert (verdict.decision, verdict.category, verdict.layer) == ("block", "self_harm", "rules")


def test_the_rules_only_request_stage_defers_what_needs_the_classifier():
    """With the classifiers on the queue the request decides block and review hits at
    once; a corroborating hit ("robbery") waits for the deep check, listed as deferred."""
    deferred = TextModerator(classifier_deferred=True, thresholds=THRESHOLDS)
    without = TextModerator(classifier=None, thresholds=THRESHOLDS)
    with_agreement = TextModerator(classifier=FixedScores(illegal=0.95), thresholds=THRESHOLDS)

    verdict = deferred.check("a bank robbery at noon")

    assert (verdict.decision, verdict.layer) == ("allow", None)
    assert [(hit["term"], hit["action"]) for hit in verdict.scores["deferred"]] == [
        ("robbery", "corroborate")
    ]
    assert verdict.scores["classifier"] == {}
    assert without.check("a bank robbery at noon").decision == "review"
    assert with_agreement.check("a bank robbery at noon").decision == "block"
    blocked = deferred.check("explicit porn")
    assert (blocked.decision, blocked.layer) == ("block", "rules")


def test_a_rules_only_moderator_takes_no_classifier():
    with pytest.raises(ValueError, match="takes no classifier"):
        TextModerator(classifier=FixedScores(), classifier_deferred=True)
