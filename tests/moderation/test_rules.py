from __future__ import annotations

import pytest

from moderation.engine.normalize import normalize
from moderation.engine.rules import RuleSet, default_ruleset, number_value


def categories(prompt: str) -> set[str | None]:
    return {
        m.category
        for m in default_ruleset().match(prompt)
        if m.action not in ("indicator", "context")
    }


def indicators(prompt: str) -> set[str]:
    return {m.group for m in default_ruleset().match(prompt)}


def test_peg_does_not_hit_pegboard():
    ruleset = RuleSet.from_dict(
        {"groups": {"g": {"category": "sexual", "action": "block", "terms": ["peg"]}}}
    )
    assert ruleset.match("a pegboard full of tools") == []
    assert [m.text for m in ruleset.match("a peg on the wall")] == ["peg"]


def test_cum_does_not_hit_cumulus():
    assert categories("cumulus clouds over the sea") == set()


def test_scunthorpe_is_not_a_slur():
    assert categories("a postcard from Scunthorpe and Penistone") == set()


def test_whole_word_hit_reports_original_span():
    matches = [m for m in default_ruleset().match("A NUDE woman") if m.group == "sexual_explicit"]
    assert [(m.term, m.start, m.end, m.text, m.action) for m in matches] == [
        ("nude", 2, 6, "NUDE", "block")
    ]


def test_obfuscated_term_hits_through_normalisation():
    matches = [m for m in default_ruleset().match("a n.u.d.e woman") if m.category == "sexual"]
    assert [m.text for m in matches] == ["n.u.d.e"]


def test_plural_of_listed_term_hits():
    assert categories("two corpses in a field") == {"violence_graphic"}


def test_prefix_term_hits_longer_word():
    assert categories("a decapitated statue") == {"violence_graphic"}


def test_exception_phrase_suppresses_hit():
    assert categories("suicide squad movie poster") == set()


def test_minor_plus_sexual_is_sexual_minors():
    assert "sexual_minors" in categories("a schoolgirl in lingerie")


def test_minor_alone_is_only_an_indicator():
    assert categories("a schoolgirl reading a book") == set()
    assert "minors" in indicators("a schoolgirl reading a book")


def test_adult_sexual_is_not_sexual_minors():
    assert categories("a nude woman on a beach") == {"sexual"}


def test_undress_request_about_person_is_nonconsensual():
    assert categories("undress the woman in this photo") == {"nonconsensual"}


def test_undress_request_about_named_person_is_nonconsensual():
    # "undressing" alone is also a suggestive (review) hit; the block is nonconsensual.
    matches = default_ruleset().match("Jane Example undressing")
    assert {m.category for m in matches if m.action == "block"} == {"nonconsensual"}


def test_remove_clothes_about_pronoun_is_nonconsensual():
    assert categories("remove her clothes") == {"nonconsensual"}


def test_xray_of_hand_is_allowed():
    assert categories("an x-ray of a broken hand") == set()


def test_xray_through_clothes_of_person_is_nonconsensual():
    assert categories("x-ray photo through the dress of a woman") == {"nonconsensual"}


def test_undress_with_minor_is_sexual_minors():
    assert "sexual_minors" in categories("undress the little girl")


@pytest.mark.parametrize(
    "prompt",
    [
        "a 14 year old",
        "a 14-year-old",
        "14yo",
        "14 yo",
        "fourteen year old",
        "fourteen-year-old",
        "fiveteen years old",
        "a fourten yr old",
        "age 12",
        "aged 9",
        "age of 16",
        "12 years of age",
        "3 months old",
    ],
)
def test_age_under_18_is_minor_indicator(prompt: str):
    assert "minors" in indicators(prompt)


@pytest.mark.parametrize(
    "prompt",
    [
        "a 25 year old",
        "age 30",
        "aged 18",
        "eighteen years old",
        "a 14 inch pizza",
        "14 years later",
    ],
)
def test_adult_ages_and_other_numbers_are_not_minor_indicators(prompt: str):
    assert "minors" not in indicators(prompt)


def test_age_plus_sexual_is_sexual_minors():
    assert "sexual_minors" in categories("a 15 year old, nude")


def test_number_value_reads_misspellings():
    assert [number_value(w) for w in ["fiveteen", "fourten", "thirteen", "12", "often"]] == [
        15,
        14,
        13,
        12,
        None,
    ]


def test_from_dict_round_trips():
    ruleset = default_ruleset()
    copy = RuleSet.from_dict(ruleset.to_dict())
    prompt = "a 14 year old girl in lingerie, gore"
    assert copy.match(prompt) == ruleset.match(prompt)
    assert copy.version == ruleset.version


def test_from_dict_rejects_unknown_category():
    with pytest.raises(ValueError, match="unknown category"):
        RuleSet.from_dict({"groups": {"g": {"category": "nope", "terms": ["x"]}}})


def test_combination_rules_are_data():
    ruleset = RuleSet.from_dict(
        {
            "groups": {
                "a": {"category": None, "action": "indicator", "terms": ["apple"]},
                "b": {"category": None, "action": "indicator", "terms": ["pear"]},
            },
            "combinations": [
                {"name": "fruit", "all": ["a", "b"], "category": "illegal", "action": "review"}
            ],
        }
    )
    combined = [m for m in ruleset.match("an apple and a pear") if m.group == "fruit"]
    assert [(m.category, m.action, m.start, m.end) for m in combined] == [
        ("illegal", "review", 3, 19)
    ]


@pytest.mark.parametrize(
    "adversarial",
    [
        "a" * 100_000 + "!",
        "a " * 50_000,
        "a." * 50_000,
        "1" * 100_000 + "x",
        "(:" + "1" * 100_000,
        "nude" * 25_000,
        "14 year " * 12_000,
    ],
)
def test_adversarial_input_finishes(adversarial: str):
    # The matcher has no regular-expression backtracking over user text (word
    # lookups only; the one regex used on a word is anchored and applied to words of
    # at most 10 characters), so the work is linear. The guard below is generous
    # on purpose: it catches quadratic behaviour (minutes), not slowness.
    import time

    started = time.perf_counter()
    default_ruleset().match(adversarial)
    assert time.perf_counter() - started < 20.0


@pytest.mark.parametrize(
    "prompt",
    [
        "1girl, solo, nsfw, nipples, spread_legs, looking at viewer",
        "(nude:1.3), masterpiece, best quality",
        "a woman without any clothes on a sofa",
        "a lady in her birthday suit in the kitchen",
        "a man in the altogether walking in the woods",
        "n00d model on a couch",
        "a nak3d woman on the beach",
        "nekkid lady on a horse",
        "full frontal, woman standing in a meadow",
        "1girl, erect nipples, pubic hair, lying on back",
    ],
)
def test_explicit_nudity_in_many_styles_is_sexual(prompt: str):
    assert "sexual" in categories(prompt)


@pytest.mark.parametrize(
    "prompt",
    [
        "a black cat, pussy cat, sleeping in the sun",
        "nude lipstick and nude heels, product photo",
        "stars visible to the naked eye",
        "a naked mole rat in the zoo",
        "reclining nude by modigliani, oil on canvas",
        "a woman in a red bikini on the beach",
        "a doctor performing a breast cancer screening",
    ],
)
def test_ordinary_uses_of_listed_words_are_not_sexual_rules(prompt: str):
    assert "sexual" not in categories(prompt)


CONTEXT_RULES = {
    "groups": {
        "harm": {"category": "self_harm", "action": "block", "terms": ["self-harm"]},
        "gore": {"category": "violence_graphic", "action": "block", "terms": ["decapitated"]},
        "minors": {"category": "minors", "action": "indicator", "terms": ["child"]},
        "nude": {"category": "sexual", "action": "block", "terms": ["nude"]},
        "help": {
            "category": None,
            "action": "context",
            "softens": ["self_harm", "sexual"],
            "terms": ["therapist", "awareness"],
        },
    },
    "combinations": [
        {"name": "minor_sexual", "all": ["minors", "sexual"], "category": "sexual_minors"}
    ],
}


def test_context_softens_only_the_categories_it_names():
    matches = RuleSet.from_dict(CONTEXT_RULES).match(
        "a therapist talks about self-harm; a statue decapitated"
    )
    by_group = {m.group: (m.action, m.softened_by) for m in matches}
    assert by_group == {
        "help": ("context", None),
        "harm": ("corroborate", "help"),
        "gore": ("block", None),
    }


def test_without_context_the_same_hit_blocks():
    matches = RuleSet.from_dict(CONTEXT_RULES).match("a poster about self-harm")
    assert [(m.group, m.action, m.softened_by) for m in matches] == [("harm", "block", None)]


def test_context_never_softens_a_combination_rule():
    matches = RuleSet.from_dict(CONTEXT_RULES).match("awareness poster, nude child")
    by_group = {m.group: m.action for m in matches}
    assert by_group["nude"] == "corroborate"
    assert by_group["minor_sexual"] == "block"


@pytest.mark.parametrize("softens", [["sexual_minors"], ["minors"], ["nonsense"], []])
def test_context_group_cannot_soften_zero_tolerance_or_unknown(softens: list[str]):
    data = {
        "groups": {
            "ctx": {"category": None, "action": "context", "softens": softens, "terms": ["x"]}
        }
    }
    with pytest.raises(ValueError):
        RuleSet.from_dict(data)


def test_context_group_round_trips():
    ruleset = RuleSet.from_dict(CONTEXT_RULES)
    assert RuleSet.from_dict(ruleset.to_dict()).to_dict() == ruleset.to_dict()
    assert ruleset.to_dict()["groups"]["help"]["softens"] == ["self_harm", "sexual"]


@pytest.mark.parametrize(
    ("prompt", "softened_by"),
    [
        ("a therapist helping a client who talks about self-harm", "context_support"),
        ("a horror movie scene: an actor beheaded, all fake blood", "context_fiction"),
        ("a sex education poster about consent and pornography", "context_education"),
        ("a video game level where the crew plans a bank robbery", "context_fiction"),
        ("a hindu temple doorway with a red swastika for diwali", "context_religious"),
    ],
)
def test_default_contexts_soften_help_pretend_and_education(prompt: str, softened_by: str):
    matches = default_ruleset().match(prompt)
    deciding = [m for m in matches if m.category is not None and m.category != "minors"]
    assert deciding
    assert {(m.action, m.softened_by) for m in deciding} == {("corroborate", softened_by)}


def test_plurals_follow_english_endings():
    ruleset = RuleSet.from_dict(
        {
            "groups": {
                "g": {
                    "category": "hate",
                    "action": "block",
                    "terms": ["spic", "witch", "pony", "fox"],
                }
            }
        }
    )
    assert ruleset.match("a moroccan market of spices") == []
    hits = ruleset.match("spics, witches, ponies and foxes")
    assert [m.text for m in hits] == ["spics", "witches", "ponies", "foxes"]


def test_a_religious_swastika_is_softened_but_a_hateful_one_is_not():
    temple = default_ruleset().match("a buddhist temple with the swastika on the wall")
    rally = default_ruleset().match("a torchlit rally under swastika banners")
    assert [(m.term, m.action) for m in temple if m.category] == [("swastika", "corroborate")]
    assert [(m.term, m.action) for m in rally if m.category] == [("swastika", "review")]


def test_fully_spaced_prompt_is_read_word_by_word():
    # Letters one space apart, words two apart: one joined run, cut at the wider gaps.
    prompt = "p h o t o  o f  a  n u d e  w o m a n  o n  a  b e a c h"
    normalized = normalize(prompt)
    assert normalized.text == "photoofanudewomanonabeach"
    assert normalized.segmented == ((0, 25, "photo of a nude woman on a beach"),)
    hits = [(m.group, m.text) for m in default_ruleset().match(normalized)]
    assert ("sexual_explicit", "n u d e") in hits


def test_evenly_spaced_letters_have_no_segmented_reading():
    assert normalize("n u d e w o m a n").segmented == ()
    assert normalize("a quiet harbour at dawn").segmented == ()
