"""Which prompts the English text head reads (``moderation.engine.language``), and what
that changes for a user: German prompts that the English head misread as violence are
allowed, while the multilingual head still reads every language. Prompts written for
this test."""

from __future__ import annotations

import pytest

from moderation.engine import language
from moderation.engine.language import english_head_reads, language_of
from moderation.engine.pipeline import TextModerator
from moderation.engine.text_classifier import TextClassifier

ENGLISH = [
    "a tiger",
    "protein",
    "die hard movie poster",
    "a watercolour of a lighthouse at dusk, by the sea, highly detailed",
    "portrait of a samurai, by greg rutkowski, artstation, 8k",
    "las meninas by diego velazquez",
    "antique marble statue of gigachad",
]
OTHER = [
    ("Hausärztin hört einem älteren Patienten mit dem Stethoskop die Lunge ab", "de"),
    ("hausarztin hort einem alteren patienten mit dem stethoskop die lunge ab", "de"),
    ("Un mercado de frutas en Sevilla por la mañana, con mucha gente", "es"),
    ("Une boulangerie parisienne au lever du soleil avec des croissants", "fr"),
    ("Девушка читает книгу в парке осенью", "ru"),
    ("夕暮れの京都の路地と提灯", "ja"),
    ("一只猫坐在窗台上看雨", "zh"),
    ("비 오는 서울의 밤거리", "ko"),
    ("سوق شعبي في القاهرة عند الغروب", "ar"),
]


@pytest.mark.parametrize("prompt", ENGLISH)
def test_english_and_short_prompts_are_read_by_the_english_head(prompt: str) -> None:
    assert english_head_reads(prompt) is True


@pytest.mark.parametrize(("prompt", "code"), OTHER)
def test_other_languages_are_not(prompt: str, code: str) -> None:
    assert english_head_reads(prompt) is False
    if code in ("de", "es", "fr"):
        assert language_of(prompt)[0] == code


def test_prompts_without_letters_go_to_the_english_head() -> None:
    assert english_head_reads("1234 5678 !!!") is True
    assert english_head_reads("") is True


def test_thresholds_are_the_documented_ones() -> None:
    # The module's rules name these numbers; docs/moderation.md quotes them.
    assert (language.MIN_WORDS, language.MIN_PROBABILITY) == (4, 0.7)


GERMAN_ORDINARY = [
    "Hausärztin hört einem älteren Patienten mit dem Stethoskop die Lunge ab, helle Praxis",
    "Die Kinder spielen am Nachmittag Fußball auf der Wiese hinter der Schule",
    "Eine Katze schläft auf dem Sofa, die Sonne scheint durch das Fenster",
]


def test_the_english_head_misread_the_german_article(text_classifier: TextClassifier) -> None:
    """Why the gate exists: the English head alone holds the doctor as violence."""
    from moderation.engine.normalize import normalize

    text = normalize(GERMAN_ORDINARY[0]).text
    assert text_classifier._minilm_windows(text)[0]["violence_graphic"] > 0.9
    # The multilingual head reads it instead: well below the review threshold (0.98).
    assert sum(text_classifier.scores(text).values()) < 0.9


HELD_BY_THE_MULTILINGUAL_HEAD = [
    "一个男人被砍头，鲜血喷溅，尸体倒在地上",
    "Un hombre degollado en el suelo, sangre por todas partes, cadáver mutilado",
    "Окровавый труп с отрубленной головой лежит на полу",
]


@pytest.mark.parametrize(
    ("prompt", "decision", "category"),
    [
        *((p, "allow", None) for p in GERMAN_ORDINARY),
        *((p, "block", "violence_graphic") for p in HELD_BY_THE_MULTILINGUAL_HEAD),
    ],
)
def test_other_languages_by_the_whole_path(
    text_classifier: TextClassifier, prompt: str, decision: str, category: str | None
) -> None:
    """German ordinary prompts are allowed; gore in other languages still blocks."""
    verdict = TextModerator(classifier=text_classifier).check(prompt)
    assert (verdict.decision, verdict.category) == (decision, category)


def test_other_language_calibration_raises_the_unsafe_odds(text_classifier: TextClassifier) -> None:
    from moderation.engine.normalize import normalize

    scorer = text_classifier.multilingual
    assert scorer is not None
    odds = scorer.other_language_odds
    assert odds > 1.0
    text = normalize("Ein Messer liegt neben Tomaten auf dem Küchenbrett").text
    raw = scorer.scores(text)
    raised = scorer.scores(text, other_language=True)
    unsafe, raised_unsafe = sum(raw.values()), sum(raised.values())
    assert raised_unsafe / (1 - raised_unsafe) == pytest.approx(odds * unsafe / (1 - unsafe), 1e-3)
    assert text_classifier.scores(text) == raised
    assert text_classifier.unsafe_odds(text) == odds
    assert text_classifier.unsafe_odds("a kitchen knife next to tomatoes on a board") == 1.0


def test_the_shipped_factor_is_what_the_command_computes(capsys) -> None:
    """training.other_languages rebuilds the factor from the repo's own sets."""
    import json

    from moderation.engine.text_classifier import DEFAULT_MULTILINGUAL_HEAD_PATH, TextHead
    from training import other_languages

    assert other_languages.main([]) == 0
    found = json.loads(capsys.readouterr().out.splitlines()[0])
    shipped = TextHead.load(DEFAULT_MULTILINGUAL_HEAD_PATH).metadata["other_languages"]
    # The encoder's float32 sums differ in the last digits between CPUs, and the factor
    # moves ~60 times as fast as the score it maps: equal to a few parts in a thousand.
    assert found["score_at_target"] == pytest.approx(shipped["score_at_target"], abs=2e-4)
    assert found["unsafe_odds"] == pytest.approx(shipped["unsafe_odds"], rel=2e-2)
    for key in ("benign_rows", "target_benign_rate", "allow", "sets"):
        assert found[key] == shipped[key]
