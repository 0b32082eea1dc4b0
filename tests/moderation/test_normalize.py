from __future__ import annotations

import pytest

from moderation.engine.normalize import normalize


def test_spaced_letters_are_joined():
    assert normalize("n u d e girl").text == "nude girl"


def test_dotted_letters_are_joined():
    assert normalize("n.u.d.e").text == "nude"


def test_two_single_letters_stay_apart():
    assert normalize("a b test").text == "a b test"


def test_fullwidth_letters_fold():
    assert normalize("ｎｕｄｅ").text == "nude"


def test_cyrillic_lookalikes_fold():
    assert normalize("\u0455\u0435\u0445").text == "sex"


def test_greek_lookalikes_in_a_latin_prompt_fold():
    assert normalize("a \u03bd\u03bf word").text == "a vo word"


def test_a_whole_greek_word_stays_greek_with_its_latin_reading():
    result = normalize("\u03bd\u03bf")
    assert result.text == "\u03bd\u03bf"
    assert result.readings == ((0, 2, "vo"),)


def test_a_russian_word_stays_russian():
    assert normalize("голая девушка").text == "голая девушка"


def test_a_mixed_script_word_takes_its_majority_script():
    result = normalize("п\u006f\u0070но and nud\u0435")
    assert result.text == "порно and nude"
    assert (0, 5, "nopho") in result.readings


def test_zero_width_characters_removed():
    result = normalize("nu\u200bd\u200de")
    assert result.text == "nude"
    assert result.changes == {"invisible_removed": 2}


def test_control_characters_removed_and_whitespace_collapsed():
    assert normalize("a\x00b \t\n c").text == "ab c"


def test_accents_stripped():
    assert normalize("Café NAÏVE").text == "cafe naive"


def test_leetspeak_inside_words():
    assert normalize("s3x p0rn n00ds @ss a$$ k1ll").text == "sex porn noods ass ass kill"


def test_leading_one_reads_as_l():
    assert normalize("1oli").text == "loli"


def test_numbers_with_units_are_not_leetspeak():
    assert normalize("14yo 4k 1990s 2girls 3d 1.3").text == "14yo 4k 1990s 2girls 3d 1.3"


def test_bare_numbers_are_not_leetspeak():
    assert normalize("5 apples and 30 pears").text == "5 apples and 30 pears"


def test_prompt_weight_syntax_stripped():
    assert normalize("(nude:1.3), [woman], {hat}").text == "nude , woman , hat"


def test_nested_weight_brackets_stripped():
    assert normalize("((best quality))").text == "best quality"


def test_span_maps_back_to_original():
    result = normalize("Hi (N U D E:1.3) there")
    start = result.text.index("nude")
    assert result.original_span(start, start + 4) == (4, 11)
    assert result.original_text(start, start + 4) == "N U D E"


def test_span_after_removed_invisible_character():
    result = normalize("\u200bhello")
    assert result.text == "hello"
    assert result.original_span(0, 5) == (1, 6)


def test_empty_prompt():
    result = normalize("")
    assert result.text == ""
    assert result.original_span(0, 0) == (0, 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("一个13岁的女孩", "一个13岁的女孩"),  # an age among Chinese words, not leetspeak
        ("张13岁", "张13岁"),
        ("彼女は12歳", "彼女は12歳"),
        ("열3살", "열3살"),
        ("n4ked 女孩", "naked 女孩"),  # the Latin word beside it is still read
        ("s3x女孩", "sex女孩"),
    ],
)
def test_digits_among_unspaced_scripts_are_not_leetspeak(text: str, expected: str):
    # Chinese, Japanese and Korean runs hold whole phrases; "张13岁" was read as "张ie岁",
    # which hid the age from the rules (2026-12-07).
    assert normalize(text).text == expected


def test_a_russian_word_of_lookalike_letters_has_no_latin_reading_in_a_russian_prompt():
    # "сим" (SIM, as in сим-карта) read as Latin was "cum", "пи" (pi) was "nu": a child
    # buying a SIM card, or learning the number pi, locked the account.
    assert normalize("ребенок покупает сим-карту").readings == ()
    assert normalize("дети учат число пи").readings == ()
    # Among Latin words the same letters are still a disguise, read as Latin.
    assert normalize("a 12 year old сим").text == "a 12 year old cum"
