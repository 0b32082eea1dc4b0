"""A decision about one place of a long prompt reads the classifier windows near it.

A rule hit that needs the classifier to agree (``corroborate``, a softened hit) and the
minor indicator that, with a high sexual score, makes ``sexual_minors`` used the whole
prompt's scores: in a long description of several scenes a harmless sentence far away
agreed with a word it never stood beside. ``python -m training.long_eval`` (third-party
benign rows joined into long prompts): 143 of 400 flagged before, 133 after; the
third-party unsafe rows placed among them stay flagged, 238 of 258 on both sides
(docs/moderation.md). The scores near a hit are those of the most unsafe window there, as
the whole prompt's are its most unsafe window's; so a prompt read in one window is
decided as before.

The stand-in classifier here scores each sentence by the phrases it holds, so every
outcome below follows from the rules and the windows alone. Every prompt was written
for this test.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from moderation.engine.normalize import normalize
from moderation.engine.pipeline import DEFAULT_MINOR_REACH, DEFAULT_REACH, TextModerator
from moderation.engine.rules import RuleMatch
from moderation.engine.text_classifier import ScoredWindow, clause_group_spans, clause_groups

QUIET = {"illegal": 0.01, "sexual": 0.01}
# ~250 characters of harmless scene, farther than DEFAULT_REACH from what follows it.
SCENE = (
    "a harbour at dawn with fishing boats along the stone pier and gulls over the water. "
    "soft mist rolls in over the old brick warehouses and the lamps are still lit. "
    "a cat sleeps on a coil of rope beside the harbour master's hut"
)
# More than DEFAULT_MINOR_REACH characters of the same.
LONG_SCENE = ". ".join([SCENE, SCENE])


class SentenceScores:
    """Each sentence (text between ". ") is one window, scored by the first phrase of
    ``table`` it holds (``QUIET`` otherwise); the prompt's scores are its most unsafe
    window's, as ``TextClassifier.scored_windows`` gives them."""

    def __init__(self, table: Mapping[str, Mapping[str, float]]) -> None:
        self.table = table
        self.read: list[str] = []

    def scored_windows(self, text: str) -> tuple[dict[str, float], list[ScoredWindow]]:
        self.read.append(text)
        windows, position = [], 0
        for sentence in text.split(". "):
            start = text.index(sentence, position)
            position = start + len(sentence)
            scores = next((dict(s) for p, s in self.table.items() if p in sentence), QUIET)
            windows.append(ScoredWindow(start, position, dict(scores)))
        best = max(windows, key=lambda w: w.unsafe)
        return dict(best.scores), windows

    def scores(self, text: str) -> dict[str, float]:
        return self.scored_windows(text)[0]


def moderator(table: Mapping[str, Mapping[str, float]]) -> TextModerator:
    return TextModerator(
        classifier=SentenceScores(table),
        thresholds={"unsafe": {"allow": 0.9, "block": 0.99}},
        corroborate_at=0.5,
        minor_sexual=0.8,
    )


# An unrelated sentence the classifier finds somewhat unsafe: above corroborate_at, below
# the review threshold, so it holds nothing on its own.
UNEASY = {"storm": {"illegal": 0.6, "sexual": 0.01}}
HIT = "a counterfeit painting hangs in the old museum"  # illegal, corroborate


def test_a_far_sentence_does_not_agree_with_a_hit() -> None:
    far = f"{HIT}. {SCENE}. a storm breaks over the sea"
    assert len(SCENE) > DEFAULT_REACH
    verdict = moderator(UNEASY).check(far)
    assert (verdict.decision, verdict.category) == ("allow", None)
    near = verdict.scores["near"]
    assert [(n["group"], n["unsafe"]) for n in near] == [("illegal", 0.02)]


def test_a_sentence_beside_the_hit_agrees() -> None:
    beside = f"{SCENE}. {HIT}. a storm breaks over the sea"
    verdict = moderator(UNEASY).check(beside)
    assert (verdict.decision, verdict.category, verdict.layer) == ("review", "illegal", "rules")
    assert verdict.matched_text == "counterfeit"
    assert [(n["group"], n["unsafe"]) for n in verdict.scores["near"]] == [("illegal", 0.61)]


def test_a_prompt_read_in_one_window_is_decided_as_before() -> None:
    class OneWindow(SentenceScores):
        def scored_windows(self, text: str) -> tuple[dict[str, float], list[ScoredWindow]]:
            scores = {"illegal": 0.6, "sexual": 0.01} if "storm" in text else dict(QUIET)
            return scores, [ScoredWindow(0, len(text), scores)]

    one = TextModerator(
        classifier=OneWindow({}),
        thresholds={"unsafe": {"allow": 0.9, "block": 0.99}},
        corroborate_at=0.5,
    )
    verdict = one.check(f"{HIT}. {SCENE}. a storm breaks over the sea")
    assert (verdict.decision, verdict.category) == ("review", "illegal")
    assert "near" not in verdict.scores


def test_a_hit_no_window_reached_reads_the_whole_prompt() -> None:
    # Beyond the classifier's budget a part of a long prompt may go unread: the hit
    # there is decided on the whole prompt's scores, as before.
    class FirstSentenceOnly(SentenceScores):
        def scored_windows(self, text: str) -> tuple[dict[str, float], list[ScoredWindow]]:
            scores, windows = super().scored_windows(text)
            return scores, windows[:2]

    partial = TextModerator(
        classifier=FirstSentenceOnly(UNEASY),
        thresholds={"unsafe": {"allow": 0.9, "block": 0.99}},
        corroborate_at=0.5,
    )
    prompt = f"a storm breaks over the sea. {LONG_SCENE}. {HIT}"
    verdict = partial.check(prompt)
    assert (verdict.decision, verdict.category) == ("review", "illegal")


SEXUAL = {"velvet": {"sexual": 0.85, "illegal": 0.01}}  # below review, above minor_sexual
CHILD = "a child flying a kite on the beach"


def test_a_minor_with_a_sexual_window_within_reach_is_sexual_minors() -> None:
    prompt = f"{CHILD}. {SCENE}. the velvet curtain falls"
    assert len(prompt) - len(CHILD) < DEFAULT_MINOR_REACH
    verdict = moderator(SEXUAL).check(prompt)
    assert (verdict.decision, verdict.category, verdict.layer) == (
        "review",
        "sexual_minors",
        "classifier",
    )
    assert verdict.matched_text == "child"
    assert [(n["group"], n["sexual"]) for n in verdict.scores["near"]] == [("minors", 0.85)]


def test_a_minor_far_from_the_sexual_window_is_not_sexual_minors() -> None:
    prompt = f"{CHILD}. {LONG_SCENE}. the velvet curtain falls"
    assert len(LONG_SCENE) > DEFAULT_MINOR_REACH
    verdict = moderator(SEXUAL).check(prompt)
    # The sexual sentence alone is below the review threshold: allowed, no escalation.
    assert (verdict.decision, verdict.category) == ("allow", None)
    assert [(n["group"], n["sexual"]) for n in verdict.scores["near"]] == [("minors", 0.01)]


def test_the_minor_nearest_the_sexual_window_is_named() -> None:
    prompt = f"{CHILD}. {LONG_SCENE}. a little boy at the window. the velvet curtain falls"
    verdict = moderator(SEXUAL).check(prompt)
    assert (verdict.decision, verdict.category) == ("review", "sexual_minors")
    assert verdict.matched_text == "little boy"
    assert verdict.span == (prompt.index("little boy"), prompt.index("little boy") + 10)


def test_a_hit_spanning_two_parts_reads_the_windows_near_either_part() -> None:
    # A combination's hit runs from one part to the other (far apart under a rule that
    # reads the whole prompt): the windows near each part speak for it, not those in
    # between.
    windows = [
        (0, 40, {"illegal": 0.1}),
        (300, 340, {"illegal": 0.6}),  # in between, far from both parts
        (600, 640, {"illegal": 0.3}),
    ]
    near = TextModerator._near(list(range(700)), windows, DEFAULT_REACH)
    spanning = RuleMatch("illegal", "pair", "a + b", 10, 620, "", 2, "corroborate")
    assert near(spanning) == {"illegal": 0.3}  # the most unsafe of the two near its parts
    short = RuleMatch("illegal", "term", "a", 310, 315, "", 2, "corroborate")
    assert near(short) == {"illegal": 0.6}
    nowhere = RuleMatch("illegal", "term", "a", 480, 485, "", 2, "corroborate")
    assert near(nowhere) is None


def test_two_heads_over_one_window_decide_as_the_whole_prompt_does() -> None:
    # Both heads read a short prompt whole. The prompt's scores are the more unsafe
    # head's, and so are the scores near the minor: the other head's higher sexual
    # score alone does not make sexual_minors, as it did not before.
    class TwoHeads(SentenceScores):
        def scored_windows(self, text: str) -> tuple[dict[str, float], list[ScoredWindow]]:
            minilm = {"sexual": 0.5, "violence_graphic": 0.45}
            multilingual = {"sexual": 0.7, "violence_graphic": 0.0}
            whole = [ScoredWindow(0, len(text), minilm), ScoredWindow(0, len(text), multilingual)]
            return dict(minilm), whole

    two = TextModerator(
        classifier=TwoHeads({}),
        thresholds={"unsafe": {"allow": 0.99, "block": 0.999}},
        minor_sexual=0.6,
    )
    verdict = two.check(CHILD)
    assert (verdict.decision, verdict.category) == ("allow", None)
    assert verdict.scores["near"] == [
        {"group": "minors", "span": [2, 7], "unsafe": 0.95, "sexual": 0.5}
    ]


@pytest.mark.parametrize(
    "text",
    [
        "a, b, c",
        "  leading space, trailing space  ; and (brackets) [more] {braces}|pipes",
        "one clause only",
        ",,,;;;",
        "子供が公園で遊んでいる。犬が走っている、猫が寝ている",
        ", ".join(f"clause number {i} with a few words" for i in range(40)),
    ],
)
def test_clause_group_spans_are_the_clause_groups_where_they_stand(text: str) -> None:
    spans = clause_group_spans(text)
    assert [group for _, _, group in spans] == clause_groups(text)
    for start, end, group in spans:
        assert 0 <= start < end <= len(text) or (start, end) == (0, len(text))
        first, last = group.split(", ")[0], group.split(", ")[-1]
        assert text[start:end].startswith(first)
        assert text[start:end].endswith(last)


def test_the_classifier_gives_its_windows_and_the_same_scores(text_classifier) -> None:
    short = normalize("a lighthouse on a cliff at sunset, oil painting").text
    scores, windows = text_classifier.scored_windows(short)
    assert scores == text_classifier.scores(short)
    assert [(w.start, w.end) for w in windows] == [(0, len(short)), (0, len(short))]
    long = normalize(f"{SCENE}. {SCENE}. {SCENE}. a storm breaks over the sea").text
    scores, windows = text_classifier.scored_windows(long)
    assert scores == text_classifier.scores(long)
    assert len(windows) > 6
    assert all(0 <= w.start < w.end <= len(long) for w in windows)
    best = max(windows, key=lambda w: w.unsafe)
    assert best.unsafe == pytest.approx(sum(scores.values()), abs=1e-5)


def test_the_scores_are_a_copy_not_a_window_s_own(text_classifier) -> None:
    text = normalize(f"{SCENE}. {SCENE}. a storm breaks over the sea").text
    scores, windows = text_classifier.scored_windows(text)
    before = [dict(w.scores) for w in windows]
    for category in scores:
        scores[category] = 1.0
    assert [w.scores for w in windows] == before
