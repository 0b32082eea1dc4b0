"""No strike for nonsense (issue 11): a few words that describe nothing never block.

The strings below were written for this test (keyboard tests, placeholders, code
fragments, single words); none comes from an evaluation set.
"""

from __future__ import annotations

import pytest

from moderation.engine.evidence import MIN_CLASSIFIER_BLOCK_WORDS, content_words
from moderation.engine.normalize import normalize
from moderation.engine.pipeline import TextModerator
from moderation.engine.rules import RuleSet
from moderation.engine.text_classifier import TextClassifier

NONSENSE = [
    "idem test unicode(",
    "test unicode",
    "ok",
    "idem",
    "xyzzy",
    "foo bar baz",
    "lorem ipsum dolor",
    "null undefined NaN",
    "asdf qwer zxcv",
    "aaaa bbbb",
    "kjhgf lkjh",
    "%%%% test",
]
NO_RULES = RuleSet.from_dict({"version": "none", "groups": {}})


class FixedScores:
    def __init__(self, **scores: float) -> None:
        self._scores = scores

    def scores(self, text: str) -> dict[str, float]:
        return dict(self._scores)


@pytest.fixture(scope="module")
def moderator(text_classifier: TextClassifier) -> TextModerator:
    return TextModerator(classifier=text_classifier)


def test_the_classifier_alone_would_flag_some_of_them(text_classifier: TextClassifier):
    # The premise: the head's scores on these strings reach its allow threshold, so
    # without the rules below the classifier would hold or block nonsense. The head of
    # 2026-11-29 reached its block threshold on "idem test unicode(" (0.9987 hate); the
    # head of 2026-12-07 gives it 0.9993 against a block threshold of 0.9997, so the
    # block side of the guard is tested with fixed scores below
    # (test_classifier_only_block_needs_enough_words).
    allow = text_classifier.head.thresholds["unsafe"]["allow"]
    sums = {t: sum(text_classifier.scores(normalize(t).text).values()) for t in NONSENSE}
    assert sums["idem test unicode("] >= allow


@pytest.mark.parametrize("text", NONSENSE)
def test_nonsense_is_never_blocked(moderator: TextModerator, text: str):
    verdict = moderator.check(text)
    assert verdict.decision in {"allow", "review"}
    if verdict.decision == "review":
        assert verdict.layer == "classifier"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("idem test unicode(", 3),
        ("a cat on a mat", 3),  # one-letter words do not count
        ("4k 8k hdr", 1),
        ("a portrait of a knight in armour", 5),
        ("裸体女人", 2),
    ],
)
def test_content_words(text: str, words: int):
    assert content_words(text) == words


def test_classifier_only_block_needs_enough_words():
    thresholds = {"unsafe": {"allow": 0.5, "block": 0.9}}
    moderator = TextModerator(NO_RULES, FixedScores(hate=0.99), thresholds)
    short = "a red wall sign"  # three words of two letters or more
    assert content_words(short) == MIN_CLASSIFIER_BLOCK_WORDS - 1
    held = moderator.check(short)
    assert (held.decision, held.category, held.layer) == ("review", "hate", "classifier")
    blocked = moderator.check("a red wall sign downtown")
    assert (blocked.decision, blocked.category, blocked.layer) == ("block", "hate", "classifier")


def test_a_rule_word_of_the_same_category_lets_few_words_block():
    thresholds = {"unsafe": {"allow": 0.5, "block": 0.9}}
    # "robbery" is an illegal word that decides nothing alone (corroborate).
    moderator = TextModerator(classifier=FixedScores(illegal=0.99), thresholds=thresholds)
    verdict = moderator.check("armed robbery")
    assert (verdict.decision, verdict.category) == ("block", "illegal")
    other = TextModerator(classifier=FixedScores(hate=0.99), thresholds=thresholds)
    held = other.check("armed robbery")  # the rule word is not of the classifier's category
    assert (held.decision, held.category, held.layer) == ("review", "hate", "classifier")


def test_rule_blocks_and_zero_tolerance_do_not_need_words():
    thresholds = {"unsafe": {"allow": 0.5, "block": 0.9}}
    rules = TextModerator(classifier=FixedScores(sexual=0.0), thresholds=thresholds)
    assert rules.check("nude").decision == "block"
    minor = TextModerator(
        classifier=FixedScores(sexual=0.95), thresholds=thresholds, minor_sexual_block=0.9
    )
    verdict = minor.check("14yo")
    assert (verdict.decision, verdict.category) == ("block", "sexual_minors")
    # Without a block level the classifier alone holds it (senior review), few words or not.
    held = TextModerator(classifier=FixedScores(sexual=0.95), thresholds=thresholds)
    assert (held.check("14yo").decision, held.check("14yo").category) == (
        "review",
        "sexual_minors",
    )
