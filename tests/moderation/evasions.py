"""Evasions a prompt writer uses to get a word past a filter (issue 11, item 2).

Each evasion rewrites one word, or a phrase, and returns None where it does not
apply (leetspeak on a Russian word, spacing a two-letter word). Used by the property
tests of the rules layer.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

_LEET = {"a": "4", "e": "3", "s": "5", "o": "0", "t": "7", "i": "1", "l": "1", "b": "8"}
_TO_CYRILLIC = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "y": "у"}
_TO_LATIN = {v: k for k, v in _TO_CYRILLIC.items()}
_WORD = re.compile(r"[^\W_]+")
_CYRILLIC = re.compile("[\u0400-\u04ff]")


def _latin_word(word: str) -> bool:
    return word.isascii() and word.isalpha()


def _key_word(phrase: str) -> str | None:
    words = [w for w in _WORD.findall(phrase) if not any(c.isdigit() for c in w)]
    return max(words, key=len) if words else None


def _replace_key(phrase: str, rewrite: Callable[[str], str | None]) -> str | None:
    key = _key_word(phrase)
    if key is None:
        return None
    new = rewrite(key)
    if new is None or new == key or not any(c.isalpha() for c in new):
        return None  # unchanged, or no longer a word ("1011" is a number)
    return re.sub(rf"(?<![^\W_]){re.escape(key)}(?![^\W_])", lambda _: new, phrase, count=1)


def spaced(phrase: str) -> str | None:
    """``n u d e``: the longest word's letters apart."""
    return _replace_key(phrase, lambda w: " ".join(w) if len(w) >= 3 else None)


def spaced_after_one_letter_word(phrase: str) -> str | None:
    """``a n u d e``: the first word spaced out right after the one-letter word "a"."""
    words = phrase.split(" ")
    if len(words[0]) < 3 or not words[0].isalpha():
        return None
    return " ".join(["a", " ".join(words[0]), *words[1:]])


def two_spaced_words(phrase: str) -> str | None:
    """``n u d e w o m a n``: two words spaced out as one run."""
    words = phrase.split(" ")
    second = "woman" if phrase.isascii() else "девушка" if _CYRILLIC.search(phrase) else ""
    pair = words[:2] if len(words) >= 2 else [words[0], second]
    if not all(w.isalpha() and len(w) >= 2 for w in pair):
        return None
    return " ".join([" ".join("".join(pair)), *words[2:]])


def leet_first(phrase: str) -> str | None:
    """``5ex``: a digit for the first letter of the longest word."""
    return _replace_key(
        phrase,
        lambda w: _LEET[w[0]] + w[1:] if _latin_word(w) and w[0] in _LEET else None,
    )


def leet_last(phrase: str) -> str | None:
    """``corps3``: a digit for the last letter of the longest word."""
    return _replace_key(
        phrase,
        lambda w: w[:-1] + _LEET[w[-1]] if _latin_word(w) and w[-1] in _LEET else None,
    )


def ones_and_zeros(phrase: str) -> str | None:
    """``k1ll``, ``p1ll5``, ``b00b``: every i, l and o of the longest word as 1 or 0."""
    return _replace_key(
        phrase,
        lambda w: (
            "".join({"i": "1", "l": "1", "o": "0"}.get(c, c) for c in w) if _latin_word(w) else None
        ),
    )


def mixed_script(phrase: str) -> str | None:
    """``nudе`` with a Cyrillic е (or ``пopно`` with Latin o and p)."""

    def rewrite(word: str) -> str | None:
        table = _TO_CYRILLIC if _latin_word(word) else _TO_LATIN
        positions = [i for i, c in enumerate(word) if c in table]
        if not positions or len(positions) == len(word):
            return None
        chars = list(word)
        for index in positions[: max(1, len(positions) // 2)]:
            chars[index] = table[chars[index]]
        return "".join(chars)

    return _replace_key(phrase, rewrite)


def zero_width(phrase: str) -> str | None:
    """Zero-width spaces between the letters of the longest word."""
    return _replace_key(phrase, lambda w: "\u200b".join(w) if len(w) >= 2 else None)


def fullwidth(phrase: str) -> str | None:
    """ＮＵＤＥ: fullwidth forms of ASCII letters."""
    if not any(c.isascii() and c.isalpha() for c in phrase):
        return None
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in phrase)


def weighted(phrase: str) -> str | None:
    """``((nude:1.4))``: prompt-weight syntax around the phrase."""
    return f"(({phrase}:1.4))"


def shouted(phrase: str) -> str | None:
    return phrase.upper() if phrase.upper() != phrase else None


_ARABIC = re.compile("[\u0600-\u06ff]")
# The isolated presentation form of each Arabic letter that has one (U+FE70-U+FEFC).
_PRESENTATION = {
    unicodedata.normalize("NFKC", chr(code)): chr(code)
    for code in range(0xFE70, 0xFEFD)
    if unicodedata.name(chr(code), "").endswith("ISOLATED FORM")
    and len(unicodedata.normalize("NFKC", chr(code))) == 1
}
_ARABIC_LAST = {"ة": "ه", "ى": "ي", "ي": "ى"}
_ARABIC_FIRST = {"أ": "ا", "إ": "ا", "ا": "أ"}


def _each_arabic_word(phrase: str, rewrite: Callable[[str], str]) -> str | None:
    if not _ARABIC.search(phrase):
        return None
    new = _WORD.sub(
        lambda m: rewrite(m.group()) if _ARABIC.search(m.group()) else m.group(), phrase
    )
    return new if new != phrase else None


def arabic_letter_swaps(phrase: str) -> str | None:
    """``عاريه`` for ``عارية``, ``اباحى`` for ``إباحي``: in every word, the last letter
    ta marbuta as ha, alef maqsura and ya for each other, and a first alef with or
    without hamza, as Arabic writers interchange them."""

    def rewrite(word: str) -> str:
        if len(word) < 2:
            return word
        word = word[:-1] + _ARABIC_LAST.get(word[-1], word[-1])
        return _ARABIC_FIRST.get(word[0], word[0]) + word[1:]

    return _each_arabic_word(phrase, rewrite)


def arabic_presentation_forms(phrase: str) -> str | None:
    """``ﺇﺑﺎﺣﻲ``: each Arabic letter as its isolated presentation form."""
    if not _ARABIC.search(phrase):
        return None
    return "".join(_PRESENTATION.get(c, c) for c in phrase)


def arabic_diacritics(phrase: str) -> str | None:
    """``عَارِيَـة``: vowel marks (fatha, kasra) on the letters of every word and a tatweel
    before its last letter."""

    def rewrite(word: str) -> str:
        if len(word) < 2:
            return word
        marks = "\u064e\u0650"
        return "".join(c + marks[i % 2] for i, c in enumerate(word[:-1])) + "\u0640" + word[-1]

    return _each_arabic_word(phrase, rewrite)


EVASIONS: dict[str, Callable[[str], str | None]] = {
    "spaced": spaced,
    "spaced_after_one_letter_word": spaced_after_one_letter_word,
    "two_spaced_words": two_spaced_words,
    "leet_first": leet_first,
    "leet_last": leet_last,
    "ones_and_zeros": ones_and_zeros,
    "mixed_script": mixed_script,
    "zero_width": zero_width,
    "fullwidth": fullwidth,
    "weighted": weighted,
    "shouted": shouted,
    "arabic_letter_swaps": arabic_letter_swaps,
    "arabic_presentation_forms": arabic_presentation_forms,
    "arabic_diacritics": arabic_diacritics,
}
