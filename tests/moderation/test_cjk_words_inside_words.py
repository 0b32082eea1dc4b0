"""CJK terms are matched without word boundaries, so a listed term inside an ordinary
word used to hit (rules ``builtin-2026-12-07.2``). Found by scanning word-frequency lists
of Japanese, Chinese and Korean for words that contain a listed term; each such word is
an exception phrase now (``moderation/data/terms/exceptions.txt``), and a hit outside
the word still counts. Every prompt below was written for this test.
"""

from __future__ import annotations

import pytest

from moderation.engine.pipeline import TextModerator

RULES_ONLY = TextModerator(classifier=None)

# (prompt, what it used to be, the listed term inside an ordinary word)
ORDINARY = [
    ("イエローのドレスの少女", "sexual_minors", "エロ in イエロー, yellow"),
    ("ヌードルを食べる子供", "sexual_minors", "ヌード in ヌードル, noodle"),
    ("피에로 분장을 한 아이들", "sexual_minors", "에로 in 피에로, pierrot"),
    ("子供のエッチングの版画", "sexual_minors", "エッチ in エッチング, etching"),
    ("サセックスの村の子供たち", "sexual_minors", "セックス in サセックス, Sussex"),
    ("定性的な研究、子供たち", "sexual_minors", "性的 in 定性的, qualitative"),
    ("전라도 시골 마을의 아이들", "sexual_minors", "전라 in 전라도, Jeolla"),
    ("전라남도의 바닷가 풍경", "sexual", "전라 in 전라남도"),
    ("カフェラテを飲む女性", "sexual", "フェラ in カフェラテ, café latte"),
    ("赤いフェラーリ", "sexual", "フェラ in フェラーリ, Ferrari"),
    ("이미지 생성기 광고", "sexual", "성기 in 생성기, generator"),
    ("전성기의 축구 선수", "sexual", "성기 in 전성기, heyday"),
    ("同性愛者の権利パレード", "sexual", "性愛 in 同性愛, homosexuality"),
    ("同性爱者的婚礼", "sexual", "性爱 in 同性爱"),
    ("水乳交融的色彩", "sexual", "乳交 in 水乳交融, blending well"),
    ("지나치게 밝은 하늘", "hate", "나치 in 지나치게, excessively"),
]

# No minor here (BTS, Girls' Generation, the actor Yoo Ah-in; Florida contains ロリ and
# 로리): the sexual word alone decides.
ADULTS_NAMED = [
    "플로리다 해변의 섹시한 여자",
    "방탄소년단 섹시 화보",
    "少女时代 性感",
    "유아인 섹시",
    "フロリダのビーチでセクシーな女性",
]

STILL_CAUGHT = [
    ("フロリダのロリ、ヌード", "block", "sexual_minors"),
    ("イエローのドレスの少女 エロ", "block", "sexual_minors"),
    ("子供 ヌード", "block", "sexual_minors"),
    ("전라 사진", "block", "sexual"),
    ("성기 노출", "block", "sexual"),
    ("同性爱 做爱", "block", "sexual"),
]


@pytest.mark.parametrize(("prompt", "was", "why"), ORDINARY)
def test_a_listed_term_inside_an_ordinary_word_decides_nothing(prompt: str, was: str, why: str):
    verdict = RULES_ONLY.check(prompt)
    assert verdict.category in (None, "sexual") and verdict.category != was, why
    if was != "sexual_minors":
        assert (verdict.decision, verdict.category) == ("allow", None), why


@pytest.mark.parametrize("prompt", ADULTS_NAMED)
def test_an_adult_named_with_a_minor_word_inside_is_not_sexual_minors(prompt: str):
    verdict = RULES_ONLY.check(prompt)
    assert (verdict.decision, verdict.category) == ("review", "sexual")


@pytest.mark.parametrize(("prompt", "decision", "category"), STILL_CAUGHT)
def test_the_term_outside_the_word_still_counts(prompt: str, decision: str, category: str):
    verdict = RULES_ONLY.check(prompt)
    assert (verdict.decision, verdict.category) == (decision, category)
