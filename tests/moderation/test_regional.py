"""Regional thresholds hold ordinary art for review at most, never block it (issue 11,
item 6): the issue's examples for a German user, with the shipped classifier and the
seeded German overrides."""

from __future__ import annotations

import importlib

import pytest

from moderation.engine.pipeline import TextModerator

SEEDED = importlib.import_module("accounts.migrations.0003_seed_jurisdictions").JURISDICTIONS
GERMANY = next(row for row in SEEDED if row["country"] == "DE")["moderation_overrides"]


class _Scores:
    def __init__(self, **scores: float) -> None:
        self._scores = scores

    def scores(self, text: str) -> dict[str, float]:
        return dict(self._scores)


@pytest.mark.parametrize(
    "prompt",
    [
        "a knight with a bloody sword after the battle",
        "a waterfall in a jungle in the middle of winter, ukiyo-e woodblock print, dramatic clouds",
        "a medieval castle on a hill on a foggy morning, ukiyo-e woodblock print",
    ],
)
def test_ordinary_art_is_never_blocked_by_the_german_thresholds(text_classifier, prompt: str):
    moderator = TextModerator(classifier=text_classifier)
    verdict = moderator.regional(moderator.check(prompt), GERMANY, jurisdiction="DE")
    assert verdict.decision != "block"
    if verdict.decision == "review":  # held by the regional rule, and saying so
        assert verdict.scores["regional"]["jurisdiction"] == "DE"


def test_a_regional_block_bound_only_holds():
    moderator = TextModerator(
        classifier=_Scores(violence_graphic=0.95),
        thresholds={"unsafe": {"allow": 0.98, "block": 1}},
    )
    verdict = moderator.regional(moderator.check("a battle"), GERMANY, jurisdiction="DE")
    assert (verdict.decision, verdict.category, verdict.layer) == (
        "review",
        "violence_graphic",
        "classifier",
    )
    assert verdict.scores["regional"]["limits"] == GERMANY["violence_graphic"]


def test_a_regional_threshold_needs_the_classifier_to_see_risk():
    moderator = TextModerator(
        classifier=_Scores(violence_graphic=0.3),
        thresholds={"unsafe": {"allow": 0.98, "block": 1}},
        regional_min_unsafe=0.5,
    )
    verdict = moderator.regional(moderator.check("a castle"), GERMANY, jurisdiction="DE")
    assert (verdict.decision, verdict.category) == ("allow", None)
    assert "regional" not in verdict.scores


def test_a_rule_verdict_is_left_as_it_is():
    moderator = TextModerator(classifier=_Scores(violence_graphic=0.95))
    checked = moderator.check("explicit porn")
    assert moderator.regional(checked, GERMANY, jurisdiction="DE") == checked


class _CalibratedScores(_Scores):
    """A classifier that raised the unsafe odds of this prompt (another language)."""

    def __init__(self, odds: float, **scores: float) -> None:
        super().__init__(**scores)
        self._odds = odds

    def unsafe_odds(self, text: str) -> float:
        return self._odds


@pytest.mark.parametrize(("odds", "held"), [(3.0, False), (1.0, True)])
def test_regional_limits_read_the_scores_before_the_other_language_factor(odds: float, held: bool):
    # 0.75 unsafe after odds x3 was 0.5 before it: under regional_min_unsafe 0.6, so the
    # German limits do not hold it; the same 0.75 with no factor does cross them.
    moderator = TextModerator(
        classifier=_CalibratedScores(odds, violence_graphic=0.75),
        thresholds={"unsafe": {"allow": 0.98, "block": 1}},
        regional_min_unsafe=0.6,
    )
    checked = moderator.check("eine Burg im Nebel")
    assert checked.scores.get("calibration") == (
        {"other_language_odds": odds} if odds != 1.0 else None
    )
    verdict = moderator.regional(checked, GERMANY, jurisdiction="DE")
    if held:
        assert (verdict.decision, verdict.category) == ("review", "violence_graphic")
        assert verdict.scores["regional"]["unsafe"] == 0.75
    else:
        assert verdict == checked
