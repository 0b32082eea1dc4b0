"""Term groups in other languages (issue 11, item 4): how each script is matched."""

from __future__ import annotations

import pytest

from moderation.engine.rules import default_ruleset


def _categories(prompt: str) -> set[str | None]:
    return {m.category for m in default_ruleset().match(prompt) if m.action != "indicator"}


@pytest.mark.parametrize(
    ("prompt", "category"),
    [
        ("eine nackte Frau am Strand", "sexual"),
        ("ein enthaupteter Mann", "violence_graphic"),
        ("una mujer desnuda", "sexual"),
        ("un homme décapité", "violence_graphic"),
        ("una donna completamente nuda", "sexual"),
        ("uma mulher pelada", "sexual"),
        ("голая женщина на пляже", "sexual"),
        ("全裸の女性", "sexual"),
        ("全 裸 的女人", "sexual"),  # Chinese and Japanese: spaces between characters ignored
        ("一个被斩首的男人", "violence_graphic"),
        ("알몸인 여자", "sexual"),
        ("امرأة عارية على الشاطئ", "sexual"),
        ("والعارية", "sexual"),  # Arabic: attached prefixes stripped
        ("Hitlergruß vor der Fahne", "hate"),  # ß folds to ss
    ],
)
def test_plain_terms_in_other_languages_hit(prompt: str, category: str):
    assert category in _categories(prompt)


@pytest.mark.parametrize(
    "prompt",
    [
        "나무 탁자 위의 과일 그릇, 유화",  # "탁자 위" (on the table) is not "자위"
        "할머니가 들려주는 옛날 이야기",  # "이야기" (story) holds "아기" (baby)
        "a kind teacher and her kinder colleague",  # German "Kind" is no English minor
        "Kinder Surprise eggs on a table",
        "Zigeunerschnitzel mit Pommes",
        "裸足で歩く子供たち",  # barefoot children: "裸" alone is no term
        "a viol and a harpsichord in a baroque room",
    ],
)
def test_ordinary_prompts_do_not_hit_foreign_terms(prompt: str):
    matches = default_ruleset().match(prompt)
    assert {m.category for m in matches if m.action != "indicator"} == set()
    assert not any(m.category == "sexual_minors" for m in matches)


def test_an_english_kind_is_no_minor():
    matches = default_ruleset().match("a kind of seductive look")
    assert not any(m.category in ("minors", "sexual_minors") for m in matches)
