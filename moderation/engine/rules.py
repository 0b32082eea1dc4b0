"""Rules layer: whole-word term lists per category and combination rules, as data.

Rules:
- The normalised prompt is split into words (runs of letters and digits); a term
  matches whole words only, so ``peg`` never hits ``pegboard`` and ``cum`` never hits
  ``cumulus``. A term ending in ``*`` matches any word starting with it. Plurals
  of a term's last word match too (+s; +es after s, x, z, ch, sh; y -> ies).
- Terms are normalised like prompts (accents, scripts). A term written in Chinese,
  Japanese or Korean script is matched anywhere in the prompt's CJK text, without
  word boundaries; for Chinese and Japanese, which do not separate words, spaces
  between characters are ignored; Korean does, so its spaces count (a Korean phrase
  is also found as one joined word, and one of at least ``KOREAN_JOINED_MIN``
  syllables also with its spaces moved or spaced out letter by letter). The CJK terms
  are indexed by their first two characters, so a run is scanned once however many
  terms there are. An Arabic
  word is also tried without its attached prefixes (``و``, ``ال``, ``بال``...).
- Every other reading of a word that normalisation lists (leetspeak digits at a
  word's edge, ``1`` as ``i`` or ``l``, the other script of a mixed word, a run of
  spaced letters split into words) is tried too, with its neighbouring words, so
  ``53x``, ``corp53`` and ``a n u d e woman`` hit like ``sex``, ``corpse`` and
  ``nude``. Splits of spaced letters are enumerated here, only from known words; a
  fully spaced run cut at its wider gaps (``NormalizedPrompt.segmented``) is read like
  the prompt's own words.
- Matching is a dictionary lookup per word (no regular-expression backtracking):
  the work is linear in the number of words times the longest phrase.
- A hit inside an exception phrase (``suicide squad``; a CJK phrase anywhere in the
  CJK text, as CJK terms are found) is dropped.
- Each group has an action: ``block`` or ``review`` make a hit a decision for the
  group's category; ``corroborate`` holds for review only when the classifier agrees
  (see ``pipeline``), for words like "robbery" or "overdose" that ordinary prompts
  use too; ``indicator`` only feeds combination rules.
- A ``context`` group names categories it ``softens``: when one of its phrases is in
  the prompt ("therapist", "fake blood", "sex education"), block, review and
  corroborate hits of those categories become ``corroborate`` with the context in
  ``softened_by`` (the pipeline then holds them only at the classifier's own review
  threshold). Combination rules and ``sexual_minors`` are
  never softened.
- Detectors add indicators: an age under 18 (``14 year old``, ``14yo``,
  ``fourteen-year-old``, ``fiveteen``, ``age 12``; ``14 Jahre``, ``vierzehnjährige``,
  ``14 años``, ``quatorze ans``, ``14 anni``, ``14 лет``, ``14歳``, ``十四岁``,
  ``열네 살``, ``14 عاما``) is a ``minors`` hit; two
  consecutive capitalised words in the original prompt are a ``proper_name``.
- A combination rule fires when every name in ``all`` (a group or a category) has a
  hit: e.g. any minor indicator with any sexual indicator is ``sexual_minors``. With
  ``near``, the parts' closest hits must stand within that many characters of the
  normalised prompt; parts present but farther apart fire with ``beyond`` (``review``)
  or not at all, and a combination whose part blocks on its own keeps its action. So
  two unrelated scenes of a long prompt are not read as one request. A
  combination marked ``softenable`` is softened like a term hit when a context group
  softens its category ("step by step ... a bomb" in a film-props prompt); the others
  never are.
- ``RuleSet.from_dict`` builds a rule set from plain data, so a policy version can
  replace the defaults; ``default_ruleset()`` loads ``moderation/data/rules.json``.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from moderation.engine import stems as stemming
from moderation.engine.normalize import (
    NormalizedPrompt,
    match_fold,
    normalize,
    three_way_seconds,
)

COMBINATION_BEYOND: tuple[str, ...] = ("review",)
"""What a combination whose parts are never ``near`` may do instead of its action."""

CATEGORIES: tuple[str, ...] = (
    "sexual",
    "sexual_minors",
    "minors",
    "nonconsensual",
    "violence_graphic",
    "hate",
    "self_harm",
    "illegal",
)
ACTIONS = ("block", "review", "corroborate", "indicator", "context")
NEVER_SOFTENED = frozenset({"sexual_minors", "minors"})
DATA_DIR = Path(__file__).resolve().parent.parent / "data"
DEFAULT_RULES_PATH = DATA_DIR / "rules.json"
MIN_PREFIX = 3
ADULT_AGE = 18

_WORD = re.compile(r"[^\W_]+")
# Chinese, Japanese and Korean letters: terms in them match without word boundaries.
# Korean phrases of at least this many syllables are also matched with spaces ignored.
KOREAN_JOINED_MIN = 4
_CJK_CHAR = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\u1100-\u11ff"
_CJK = re.compile(f"[{_CJK_CHAR}]")
# In Japanese text, "JK" (joshi kōsei, a high-school girl) and "JC" (joshi chūgakusei, a
# middle-school girl) are minor indicators, written in Latin letters beside kana
# ("JKの", "現役JK", "JK制服"), so neither the word lists (whole Latin words) nor the CJK
# terms (runs of CJK characters) find them: the age detector does, when the prompt holds
# kana, where the letters touch no other Latin letter or digit.
_KANA = re.compile("[\u3040-\u30ff]")
_JA_SCHOOLGIRL = re.compile(r"(?<![a-z0-9])(jk|jc)(?![a-z0-9])")
_HANGUL = re.compile("[\uac00-\ud7af\u1100-\u11ff]")
_CJK_RUN = re.compile(f"[{_CJK_CHAR}0-9]+(?: +[{_CJK_CHAR}0-9]+)*")
_ARABIC = re.compile("[\u0600-\u06ff]")
_ARABIC_PREFIXES = ("وال", "بال", "فال", "كال", "لل", "ال", "و", "ف", "ب", "ل", "ك")
# Ages written in CJK: digits or Chinese numerals before 歳/才/岁/歲 (Korean: 살/세).
_CJK_AGE = re.compile(r"([0-9]{1,2}|[一二三四五六七八九十两兩]{1,3}) ?(歳|才|岁|歲|살|세)")
_CHINESE_DIGITS = {"一": 1, "二": 2, "两": 2, "兩": 2, "三": 3, "四": 4, "五": 5, "六": 6,
                   "七": 7, "八": 8, "九": 9}  # fmt: skip
# "Years (old)" in other languages, after a number: 14 Jahre, 14 años, 14 лет...
_I18N_YEAR_WORDS = frozenset(
    [
        *("jahre", "jahren", "jahr", "anos", "ano", "ans", "anni", "anno"),  # de es pt fr it
        *("лет", "года", "год", "годика", "годиков", "살", "세"),  # ru ko
        *("عاما", "عام", "سنة", "سنوات", "سنين", "اعوام", "عامًا"),  # ar
    ]
)
_CHILD_OF = frozenset(
    ["girl", "girls", "boy", "boys", "child", "children", "kid", "kids", "daughter", "son"]
)
# A bare number right after one of these is an age: "girl (11)", "a boy, 12," (the
# parentheses and commas are gone from the words). Singular nouns only: "girls 2" may count.
_AGED_PERSON = frozenset(
    [
        "girl", "boy", "child", "kid", "daughter", "son", "stepdaughter", "stepson",
        "niece", "nephew", "sister", "brother", "student", "pupil", "schoolgirl",
        "schoolboy", "teen", "teenager", "toddler", "baby", "minor",
        # the same in the other languages, as normalisation spells them
        "madchen", "junge", "tochter", "sohn", "schulerin", "schuler",
        "nina", "nino", "chica", "chico", "hija", "hijo",
        "fille", "fillette", "garcon", "enfant", "ragazza", "ragazzo", "menina", "menino",
        "девочка", "мальчик", "дочь", "сын", "ребенок", "школьница", "школьник",
        "طفلة", "طفل", "بنت", "ولد",
    ]
)  # fmt: skip
# Words for anyone, adult or not, after which only a teenage number (``TEEN_AGES``) is
# read as an age, unless a unit or a count follows: "a cheerleader, 15, sex" states a
# minor; "woman 1" and "woman 2" label the people of a scene, "woman 16 bit" is pixel
# art, "gymnast 12 years of training" is no age (2026-12-07, thirteenth pass).
TEEN_AGES = (10, 18)
_AGED_PERSON_TEEN = frozenset(
    [
        "cheerleader", "gymnast", "ballerina", "dancer", "swimmer", "skater", "athlete",
        "woman", "lady", "female", "male", "man", "guy", "actress",
        "cosplayer", "idol", "waitress", "maid", "nurse", "secretary", "wife", "bride",
    ]
)  # fmt: skip
_NOT_AN_AGE_AFTER_PERSON = frozenset(
    [
        "bit", "bits", "inch", "inches", "cm", "mm", "ft", "feet", "foot", "px", "k",
        "kg", "lb", "lbs", "pounds", "x", "times", "of", "out", "percent", "mph", "kmh",
        "points", "pts", "minutes", "min", "mins", "hours", "seconds", "sec", "meters",
        "metres", "m", "km", "miles", "years", "year", "yrs", "yr", "y", "months",
        "weeks", "days", "fps", "mp", "hp", "dpi", "am", "pm", "th", "st", "nd", "rd",
    ]
)  # fmt: skip
_I18N_AGE_BEFORE = frozenset(["عمر", "عمرها", "عمره", "بعمر", "سن", "بسن"])
# Arabic numbers in words, as normalisation spells them (hamza folded): the units, and
# the teens as a unit followed by عشر / عشرة ("ثلاثة عشر", thirteen); ordinals with ال
# ("الثانية عشرة", twelfth) give an age before من عمرها / من عمره ("in her twelfth year").
_AR_UNITS: dict[str, int] = {
    "واحد": 1, "واحدة": 1, "احد": 1, "احدى": 1, "اثنان": 2, "اثنين": 2, "اثنا": 2,
    "اثني": 2, "اثنتا": 2, "اثنتي": 2, "ثلاث": 3, "ثلاثة": 3, "اربع": 4, "اربعة": 4,
    "خمس": 5, "خمسة": 5, "ست": 6, "ستة": 6, "سبع": 7, "سبعة": 7, "ثماني": 8, "ثمان": 8,
    "ثمانية": 8, "تسع": 9, "تسعة": 9,
}  # fmt: skip
_AR_TEN = frozenset(["عشر", "عشرة"])
_AR_ORDINALS: dict[str, int] = {
    "الاول": 1, "الاولى": 1, "الحادي": 1, "الحادية": 1, "الثاني": 2, "الثانية": 2,
    "الثالث": 3, "الثالثة": 3, "الرابع": 4, "الرابعة": 4, "الخامس": 5, "الخامسة": 5,
    "السادس": 6, "السادسة": 6, "السابع": 7, "السابعة": 7, "الثامن": 8, "الثامنة": 8,
    "التاسع": 9, "التاسعة": 9, "العاشر": 10, "العاشرة": 10,
}  # fmt: skip
_AR_AGE_AFTER = frozenset(["عمرها", "عمره", "العمر", "عمر"])
# "She looks (to be) in her twelfth": an ordinal after في ("in") after these is an
# apparent age ("تبدو في الثانية عشرة", a girl who looks twelve).
_AR_LOOKS = frozenset(["تبدو", "يبدو", "تظهر", "يظهر", "وتبدو", "ويبدو"])
# The prompt's words are matched folded (``match_fold``: "الثانية" as "الثانيه"), so
# the Arabic words above are folded alike.
_I18N_YEAR_WORDS = frozenset(map(match_fold, _I18N_YEAR_WORDS))
_AGED_PERSON = frozenset(map(match_fold, _AGED_PERSON))
_I18N_AGE_BEFORE = frozenset(map(match_fold, _I18N_AGE_BEFORE))
_AR_UNITS = {match_fold(word): value for word, value in _AR_UNITS.items()}
_AR_TEN = frozenset(map(match_fold, _AR_TEN))
_AR_ORDINALS = {match_fold(word): value for word, value in _AR_ORDINALS.items()}
_AR_AGE_AFTER = frozenset(map(match_fold, _AR_AGE_AFTER))
_AR_LOOKS = frozenset(map(match_fold, _AR_LOOKS))
# "A girl who looks 12": a bare number after these is an apparent age, unless what
# follows is counted ("looks 3 times bigger", "looks 10 feet tall", "look like 2 girls").
_LOOKS = frozenset(
    [
        "looks", "looking", "look", "appears", "appearing", "seems",
        "aussieht", "wirkt", "parece", "aparenta", "semble", "sembra", "выглядит",
    ]
)  # fmt: skip
_LOOKS_FILLERS = frozenset(
    ["like", "about", "around", "maybe", "barely", "only", "wie", "de", "como", "на"]
)
_NOT_AN_AGE_AFTER = frozenset(
    [
        "times", "x", "percent", "feet", "foot", "ft", "meters", "metres", "meter", "m", "inches",
        "inch", "cm", "kg", "pounds", "lbs", "stories", "storeys", "floors", "miles", "km",
        "hours", "minutes", "days", "weeks", "months", "points", "stars", "of",
        "metros", "veces", "pisos", "meter", "mal", "fois", "volte", "метров", "раз",
        "men", "women", "people", "children", "feet", "teeth", "mice", "geese",
    ]
)  # fmt: skip
_GERMAN_AGED = ("jahrige", "jahriger", "jahriges", "jahrigen", "jahrigem", "jahrig")
_AGE_SUFFIXES = (*_GERMAN_AGED, "살", "세")
# Numbers under 18 written as words (accents stripped as normalisation does).
_I18N_NUMBERS: dict[str, int] = {
    # German
    "ein": 1, "eins": 1, "zwei": 2, "drei": 3, "vier": 4, "funf": 5, "sechs": 6, "sieben": 7,
    "acht": 8, "neun": 9, "zehn": 10, "elf": 11, "zwolf": 12, "dreizehn": 13, "vierzehn": 14,
    "funfzehn": 15, "sechzehn": 16, "siebzehn": 17, "sechzehnjahrige": 16,
    # Spanish
    "uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7,
    "ocho": 8, "nueve": 9, "diez": 10, "once": 11, "doce": 12, "trece": 13, "catorce": 14,
    "quince": 15, "dieciseis": 16, "diecisiete": 17,
    # French
    "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "sept": 7, "huit": 8,
    "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14, "quinze": 15,
    "seize": 16,
    # Italian
    "due": 2, "tre": 3, "quattro": 4, "cinque": 5, "sei": 6, "sette": 7, "otto": 8, "nove": 9,
    "dieci": 10, "undici": 11, "dodici": 12, "tredici": 13, "quattordici": 14, "quindici": 15,
    "sedici": 16, "diciassette": 17,
    # Portuguese
    "um": 1, "uma": 1, "dois": 2, "duas": 2, "sete": 7, "oito": 8, "dez": 10, "doze": 12,
    "treze": 13, "catorze": 14, "dezesseis": 16, "dezasseis": 16, "dezessete": 17,
    "dezassete": 17,
    # Russian
    "один": 1, "одна": 1, "два": 2, "две": 2, "три": 3, "четыре": 4, "пять": 5, "шесть": 6,
    "семь": 7, "восемь": 8, "девять": 9, "десять": 10, "одиннадцать": 11, "двенадцать": 12,
    "тринадцать": 13, "четырнадцать": 14, "пятнадцать": 15, "шестнадцать": 16,
    "семнадцать": 17,
    # Korean native numbers (before 살)
    "한": 1, "두": 2, "세": 3, "네": 4, "다섯": 5, "여섯": 6, "일곱": 7, "여덟": 8, "아홉": 9,
    "열": 10, "열한": 11, "열두": 12, "열세": 13, "열네": 14, "열다섯": 15, "열여섯": 16,
    "열일곱": 17,
}  # fmt: skip
# Ordinals before "birthday" or "grade": "her 11th birthday", "in fifth grade".
_ORDINAL_TOKEN = re.compile(r"(\d{1,2})(st|nd|rd|th)")
_ORDINAL_WORDS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
    "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12,
    "thirteenth": 13, "fourteenth": 14, "fifteenth": 15, "sixteenth": 16,
    "seventeenth": 17,
}  # fmt: skip
# Whose birthday an ordinal before "birthday" counts (not "the 10th birthday of a firm").
_POSSESSIVES = frozenset({"her", "his", "my", "their", "your", "our", "s"})
# Who "is 12" describes: "she is 12", "a girl who's twelve" (not "the price is 12").
_AGE_SUBJECTS = frozenset(
    {
        "she", "he", "who", "girl", "boy", "kid", "child", "daughter", "son", "sister",
        "brother", "niece", "nephew", "stepdaughter", "stepson",
        # German "sie ist zwölf", "das Mädchen ist 12"
        "sie", "er", "madchen", "junge", "tochter", "sohn",
    }
)  # fmt: skip
# "is" before such an age, in English and German.
_IS = frozenset({"is", "s", "was", "ist", "war"})
# German possessives before "11. Geburtstag" (her 11th birthday).
_GERMAN_POSSESSIVES = frozenset(
    {"ihr", "ihrem", "ihren", "sein", "seinem", "seinen", "mein", "meinem", "meinen", "dein"}
)
# Words after "she is 12" (or Russian "ей 12") that make the number something else
# than an age: "10 out of 10", "ей 5 минут" (five minutes left to her).
_NOT_AN_AGE_AFTER_IS = frozenset(
    {
        "out", "to", "by",
        "минут", "минуты", "минуту", "час", "часа", "часов", "дней", "дня", "раз", "км",
        "метров", "рублей", "евро", "долларов", "процентов",
    }
)  # fmt: skip
# Words at which an age phrase can start, besides numbers and compound ages.
_AGE_STARTERS = frozenset(
    [
        "age", "aged", "ages", "grade", *_CHILD_OF, *_I18N_AGE_BEFORE, *_I18N_NUMBERS,
        *_AR_UNITS, *_AR_TEN, *_AR_ORDINALS, *_ORDINAL_WORDS,
    ]
)  # fmt: skip
_AGE_TOKEN = re.compile(r"(\d{1,2})(yo|yro|yr|yrs|y|yrold|yearold|yearsold)")
_YEAR_WORDS = frozenset({"year", "years", "yr", "yrs", "y"})
_YOUNG_UNITS = frozenset({"month", "months", "week", "weeks", "day", "days"})
_NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "elven": 11,
    "twelve": 12, "twelf": 12, "twelv": 12, "tweleve": 12, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30,
}  # fmt: skip
# Stems of "-teen" numbers, misspelt ones included ("fiveteen", "fourten").
_TEEN_STEMS = {
    "thir": 13, "three": 13, "thre": 13, "thri": 13, "four": 14, "for": 14, "fourt": 14,
    "fif": 15, "five": 15, "fiv": 15, "fith": 15, "six": 16, "sixt": 16, "sic": 16,
    "seven": 17, "seve": 17, "sevent": 17, "eigh": 18, "eight": 18, "nine": 19, "nin": 19,
}  # fmt: skip
_TEEN_SUFFIXES = ("teen", "tteen", "teeen", "tean", "ten")


@dataclass(frozen=True)
class RuleMatch:
    """One hit: ``start``/``end`` are offsets in the ORIGINAL prompt."""

    category: str | None
    group: str
    term: str
    start: int
    end: int
    text: str
    severity: int
    action: str
    softened_by: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Combination:
    name: str
    all: tuple[str, ...]
    category: str
    action: str
    # A context group that softens ``category`` softens this combination's hit too
    # (never for ``sexual_minors`` or ``minors``).
    softenable: bool = False
    # The parts must stand within ``near`` characters of the normalised prompt of each
    # other (the gap between the closest hits); None: anywhere in the prompt. Parts
    # present but never that near fire with ``beyond`` instead (None: not at all),
    # unless a hit of a part blocks on its own: then the action stands.
    near: int | None = None
    beyond: str | None = None


@dataclass(frozen=True)
class _Entry:
    words: tuple[str, ...]
    group: str
    term: str
    prefix_last: bool


@dataclass(frozen=True)
class _Hit:
    group: str
    term: str
    first: int  # word index
    last: int  # word index, inclusive


@dataclass(frozen=True)
class _Found:
    group: str
    term: str
    start: int  # offset in the normalised text
    end: int


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Inclusive index ranges sorted and merged where they overlap."""
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


_BARRIER = "\x00"  # closes each window of ``Ruleset._scan_windows``: no term uses it


def _spanned(hit: _Hit, spans: list[tuple[int, int]]) -> _Found:
    return _Found(hit.group, hit.term, spans[hit.first][0], spans[hit.last][1])


def _piece_spans(start: int, end: int, pieces: list[str]) -> list[tuple[int, int]]:
    """Spans of a reading's words: by letter when the reading only adds spaces."""
    if sum(len(p) for p in pieces) != end - start:
        return [(start, end)] * len(pieces)
    result = []
    position = start
    for piece in pieces:
        result.append((position, position + len(piece)))
        position += len(piece)
    return result


def _folded(readings: tuple[tuple[int, int, str], ...]) -> tuple[tuple[int, int, str], ...]:
    return tuple((start, end, match_fold(value)) for start, end, value in readings)


def _arabic_readings(words: list[str], spans: list[tuple[int, int]]) -> list[tuple[int, int, str]]:
    """Arabic words without their attached prefixes (and, the, with the...)."""
    readings = []
    for word, (start, end) in zip(words, spans, strict=True):
        if not _ARABIC.match(word):
            continue
        for prefix in _ARABIC_PREFIXES:
            if word.startswith(prefix) and len(word) - len(prefix) >= 2:
                readings.append((start, end, word[len(prefix) :]))
    return readings


def _cjk_number(text: str) -> int | None:
    """Digits or a Chinese numeral up to 99 (十四, 二十)."""
    if text.isdigit():
        return int(text)
    if text == "十":
        return 10
    if "十" in text:
        tens, _, ones = text.partition("十")
        value = (_CHINESE_DIGITS.get(tens, 0) if tens else 1) * 10
        return value + (_CHINESE_DIGITS.get(ones, 0) if ones else 0)
    return _CHINESE_DIGITS.get(text) if len(text) == 1 else None


@dataclass(frozen=True)
class Group:
    name: str
    category: str | None
    action: str
    terms: tuple[str, ...]
    softens: tuple[str, ...] = ()
    # Terms also matched by their stems, per language (``stems``): (code, terms) pairs.
    stems: tuple[tuple[str, tuple[str, ...]], ...] = ()


class _Matcher:
    """Whole-word phrase lookup indexed by first word (and by prefix for ``word*``).

    Phrases of two words or more are indexed by their first two words, so a common
    first word ("sex", "child", "without") costs one lookup, not one comparison per
    phrase that starts with it.
    """

    def __init__(self, entries: Iterable[_Entry]) -> None:
        # Each entry with its place in the lists: hits at one word keep the lists' order.
        self.by_first: dict[str, list[tuple[int, _Entry]]] = {}
        self.by_pair: dict[tuple[str, str], list[tuple[int, _Entry]]] = {}
        # Two-word phrases whose second word is a prefix ("bare breast*"): by first word.
        self.pair_prefix: dict[str, list[tuple[int, _Entry]]] = {}
        self.single_prefix: dict[str, list[_Entry]] = {}
        self.longest = 1
        for position, entry in enumerate(entries):
            self.longest = max(self.longest, len(entry.words))
            if entry.prefix_last and len(entry.words) == 1:
                self.single_prefix.setdefault(entry.words[0], []).append(entry)
            elif len(entry.words) == 1:
                self.by_first.setdefault(entry.words[0], []).append((position, entry))
            elif entry.prefix_last and len(entry.words) == 2:
                self.pair_prefix.setdefault(entry.words[0], []).append((position, entry))
            else:
                pair = (entry.words[0], entry.words[1])
                self.by_pair.setdefault(pair, []).append((position, entry))
        # First words of any phrase: a word that starts none needs no pair lookup.
        self.first_words = frozenset(
            [*self.by_first, *self.pair_prefix, *(pair[0] for pair in self.by_pair)]
        )
        # The lengths that single-word prefixes have: a word is looked up once per length.
        self.prefix_sizes = tuple(
            sorted({len(prefix) for prefix in self.single_prefix if len(prefix) >= MIN_PREFIX})
        )
        # Their first MIN_PREFIX letters: most words start otherwise and need no lookups.
        self.prefix_heads = frozenset(p[:MIN_PREFIX] for p in self.single_prefix)

    def find(
        self,
        words: list[str],
        first: int = 0,
        last: int | None = None,
        ranges: Iterable[tuple[int, int]] | None = None,
    ) -> list[_Hit]:
        """Hits whose first word is at an index from ``first`` to ``last`` (inclusive;
        default: every word), or in one of ``ranges`` (``(first, last)`` pairs, in
        order), in the order of their first word, then of the lists."""
        hits: list[_Hit] = []
        count = len(words)
        if ranges is None:
            ranges = ((first, count - 1 if last is None else last),)
        spans = [range(max(0, lo), min(count, hi + 1)) for lo, hi in ranges]
        for index in spans[0] if len(spans) == 1 else itertools.chain.from_iterable(spans):
            word = words[index]
            if word in self.first_words:
                matched = [
                    (position, entry, index) for position, entry in self.by_first.get(word, ())
                ]
                if index + 1 < count:
                    following = words[index + 1]
                    for position, entry in self.by_pair.get((word, following), ()):
                        end = index + len(entry.words) - 1
                        if end < count and _phrase_matches(entry, words, index):
                            matched.append((position, entry, end))
                    for position, entry in self.pair_prefix.get(word, ()):
                        if following.startswith(entry.words[1]):
                            matched.append((position, entry, index + 1))
                if len(matched) > 1:
                    matched.sort(key=lambda item: item[0])
                hits.extend([_Hit(e.group, e.term, index, end) for _, e, end in matched])
            if word[:MIN_PREFIX] not in self.prefix_heads:
                continue
            for size in self.prefix_sizes:
                if size > len(word):
                    break
                for entry in self.single_prefix.get(word[:size], ()):
                    hits.append(_Hit(entry.group, entry.term, index, index))
        return hits


def _phrase_matches(entry: _Entry, words: list[str], index: int) -> bool:
    size = len(entry.words)
    for offset in range(1, size):
        expected = entry.words[offset]
        actual = words[index + offset]
        if offset == size - 1 and entry.prefix_last:
            if not actual.startswith(expected):
                return False
        elif actual != expected:
            return False
    return True


def _group_stems(name: str, raw: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """A group's ``stems`` (``{code: [term, ...]}``), checked."""
    if not isinstance(raw, Mapping) or not all(
        code in stemming.STEMMERS
        and isinstance(terms, list)
        and all(isinstance(t, str) for t in terms)
        for code, terms in raw.items()
    ):
        raise ValueError(
            f"group {name!r}: 'stems' maps a language of {sorted(stemming.STEMMERS)} to terms"
        )
    return tuple((code, tuple(terms)) for code, terms in sorted(raw.items()))


@functools.lru_cache(maxsize=32_768)
def _stem_entry(code: str, group: str, term: str) -> _Entry | None:
    """``term`` cut to its stems in language ``code``; None for a prefix term (it
    matches its inflections already), a one-word term with a stem shorter than
    ``stems.MIN_STEM`` or more than ``stems.MAX_CUT`` letters shorter than the word, or a
    one-word term of a ``stems.PHRASES_ONLY`` language. Cached: a process builds the
    rules several times (the built-in set, each policy version and its adult-content
    copy), and stemming is most of a build's time."""
    if term.endswith("*"):
        return None
    words = _WORD.findall(match_fold(normalize(term).text))
    if not words:
        return None
    if len(words) == 1 and code in stemming.PHRASES_ONLY:
        return None
    stemmed = tuple(stemming.stem_words(code, words))
    if len(stemmed) == 1 and (
        len(stemmed[0]) < stemming.MIN_STEM or len(words[0]) - len(stemmed[0]) > stemming.MAX_CUT
    ):
        return None
    return _Entry(stemmed, group, term, False)


def _term_entries(group: str, term: str) -> list[_Entry]:
    """Compile a term to entries: its words, plus plural forms of the last word."""
    prefix_last = term.endswith("*")
    body = match_fold(normalize(term.rstrip("*")).text)  # "n1g" reads as prompts do: "nig"
    words = tuple(_WORD.findall(body))
    if not words:
        return []
    if prefix_last:
        return [_Entry(words, group, term, True)]
    entries = [_Entry(words, group, term, False)]
    last = words[-1]
    if len(last) >= 3 and not last.isdigit():
        # English plurals: +s; +es only after s, x, z, ch, sh ("spic" must not hit
        # "spices"); consonant + y -> ies.
        plurals = {last + "s"}
        if last.endswith(("s", "x", "z", "ch", "sh")):
            plurals.add(last + "es")
        if last.endswith("y"):
            plurals.add(last[:-1] + "ies")
        for plural in sorted(plurals):
            entries.append(_Entry((*words[:-1], plural), group, term, False))
    return entries


class RuleSet:
    """A versioned set of term groups and combination rules (see module docstring)."""

    def __init__(
        self,
        *,
        version: str,
        groups: Mapping[str, Group],
        combinations: Iterable[Combination],
        exceptions: Iterable[str] = (),
        severity: Mapping[str, int] | None = None,
        detectors: Mapping[str, str] | None = None,
    ) -> None:
        self.version = version
        self.groups = dict(groups)
        self.combinations = tuple(combinations)
        self.exceptions = tuple(exceptions)
        self.severity = {c: 1 for c in CATEGORIES} | dict(severity or {})
        self.detectors = dict(detectors or {})
        entries: list[_Entry] = []
        # CJK terms, spaces removed: matched anywhere in the prompt's CJK text.
        self._cjk_terms: dict[str, list[tuple[str, str]]] = {}
        for group in self.groups.values():
            for term in group.terms:
                if _CJK.search(term):
                    key = normalize(term.rstrip("*")).text
                    # Korean separates words: its spaces are kept, and the phrase is
                    # also found written as one word (spaced letters joined).
                    keys = {key, "".join(key.split())} if _HANGUL.search(key) else set()
                    for variant in keys or {"".join(key.split())}:
                        self._cjk_terms.setdefault(variant, []).append((group.name, term))
                else:
                    entries.extend(_term_entries(group.name, term))
        # The CJK keys by their first two characters (one for a one-character key), per
        # haystack (Korean: as written; Chinese and Japanese: spaces removed), so that a
        # run is scanned once whatever the number of terms; ``_cjk_order`` keeps the
        # hits in key order, as the lists give them.
        self._cjk_order = {key: number for number, key in enumerate(self._cjk_terms)}
        self._cjk_index: dict[bool, dict[str, list[str]]] = {True: {}, False: {}}
        for key in self._cjk_terms:
            korean = bool(_HANGUL.search(key))
            self._cjk_index[korean].setdefault(key[:2], []).append(key)
            if korean and len("".join(key.split())) >= KOREAN_JOINED_MIN:
                # Long Korean phrases are also found with their spaces moved or spaced
                # out letter by letter ("가 죽 을 벗"): specific enough to match joined.
                self._cjk_index[False].setdefault("".join(key.split())[:2], []).append(key)
        self._matcher = _Matcher(entries)
        # Per language, its terms cut to their stems (``stems``), for its prompts.
        stem_entries: dict[str, list[_Entry]] = {}
        for group in self.groups.values():
            for code, terms in group.stems:
                for term in terms:
                    entry = _stem_entry(code, group.name, term)
                    if entry is not None:
                        stem_entries.setdefault(code, []).append(entry)
        self._stems = {code: _Matcher(found) for code, found in stem_entries.items()}
        exception_entries: list[_Entry] = []
        # CJK exceptions, found like CJK terms (Korean as written, else spaces removed).
        self._cjk_exceptions: list[tuple[bool, str]] = []
        for phrase in self.exceptions:
            if _CJK.search(phrase):
                key = normalize(phrase).text
                korean = bool(_HANGUL.search(key))
                self._cjk_exceptions.append((korean, key if korean else "".join(key.split())))
                continue
            exception_entries.extend(_term_entries("exception", phrase))
        self._exceptions = _Matcher(exception_entries)
        self._known: dict[str, bool] = {}
        self._worth: dict[str, bool] = {}
        self._splits: dict[str, tuple[str, ...]] = {}
        self._context_words = max((len(e.words) for e in entries), default=1) + 3
        # Every word some term, exception or age phrase uses: a reading that splits a
        # run of spaced letters into other words is not worth reading.
        self._vocabulary = (
            {w for e in entries for w in e.words}
            | {w for e in exception_entries for w in e.words}
            | _YEAR_WORDS
            | _YOUNG_UNITS
            | _I18N_YEAR_WORDS
            | _I18N_AGE_BEFORE
            | _CHILD_OF
            | set(_I18N_NUMBERS)
            | {"old", "age", "aged", "ages", "of", "yo", "yro", "under"}
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RuleSet:
        """Build from plain data: ``{version, groups: {name: {category, action, terms}},
        combinations: [{name, all, category, action}], exceptions, severity, detectors}``.
        """
        groups: dict[str, Group] = {}
        for name, spec in data["groups"].items():
            category = spec.get("category")
            action = spec.get("action", "block")
            if category is not None and category not in CATEGORIES:
                raise ValueError(f"group {name!r}: unknown category {category!r}")
            if action not in ACTIONS:
                raise ValueError(f"group {name!r}: unknown action {action!r}")
            if action not in ("indicator", "context") and category is None:
                raise ValueError(f"group {name!r}: action {action!r} needs a category")
            raw_softens = spec.get("softens", [])
            if not isinstance(raw_softens, list) or not all(
                isinstance(c, str) for c in raw_softens
            ):
                raise ValueError(f"group {name!r}: 'softens' must be a list of categories")
            softens = tuple(raw_softens)
            if action == "context" and not softens:
                raise ValueError(f"group {name!r}: a context group needs 'softens'")
            if action != "context" and softens:
                raise ValueError(f"group {name!r}: only a context group softens")
            for softened in softens:
                if softened not in CATEGORIES or softened in NEVER_SOFTENED:
                    raise ValueError(f"group {name!r}: cannot soften {softened!r}")
            groups[name] = Group(
                name,
                category,
                action,
                tuple(spec.get("terms", ())),
                softens if softens else (),
                _group_stems(name, spec.get("stems", {})),
            )
        combinations = []
        for spec in data.get("combinations", ()):
            if spec["category"] not in CATEGORIES:
                raise ValueError(f"combination {spec['name']!r}: unknown category")
            softenable = spec.get("softenable", False)
            if not isinstance(softenable, bool) or (
                softenable and spec["category"] in NEVER_SOFTENED
            ):
                raise ValueError(f"combination {spec['name']!r}: cannot be softenable")
            near, beyond = spec.get("near"), spec.get("beyond")
            if near is not None and (
                isinstance(near, bool) or not isinstance(near, int) or near < 0
            ):
                raise ValueError(
                    f"combination {spec['name']!r}: near must be a count of characters"
                )
            if beyond is not None and (near is None or beyond not in COMBINATION_BEYOND):
                raise ValueError(
                    f"combination {spec['name']!r}: beyond must be one of "
                    f"{', '.join(COMBINATION_BEYOND)}, with near"
                )
            combinations.append(
                Combination(
                    name=spec["name"],
                    all=tuple(spec["all"]),
                    category=spec["category"],
                    action=spec.get("action", "block"),
                    softenable=softenable,
                    near=near,
                    beyond=beyond,
                )
            )
        return cls(
            version=str(data.get("version", "unversioned")),
            groups=groups,
            combinations=combinations,
            exceptions=data.get("exceptions", ()),
            severity=data.get("severity"),
            detectors=data.get("detectors"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "severity": dict(self.severity),
            "groups": {
                g.name: {"category": g.category, "action": g.action, "terms": list(g.terms)}
                | ({"softens": list(g.softens)} if g.softens else {})
                | ({"stems": {code: list(t) for code, t in g.stems}} if g.stems else {})
                for g in self.groups.values()
            },
            "exceptions": list(self.exceptions),
            "detectors": dict(self.detectors),
            "combinations": [
                {"name": c.name, "all": list(c.all), "category": c.category, "action": c.action}
                | ({"softenable": True} if c.softenable else {})
                | ({"near": c.near} if c.near is not None else {})
                | ({"beyond": c.beyond} if c.beyond is not None else {})
                for c in self.combinations
            ],
        }

    def match(self, prompt: NormalizedPrompt | str) -> list[RuleMatch]:
        """All hits in the prompt, combination rules included, in text order."""
        normalized = prompt if isinstance(prompt, NormalizedPrompt) else normalize(prompt)
        text = normalized.text
        arabic = _ARABIC.search(text) is not None
        if arabic:  # ta marbuta and alef maqsura, as the terms are folded
            text = match_fold(text)
            normalized = replace(
                normalized,
                readings=_folded(normalized.readings),
                joined=_folded(normalized.joined),
                segmented=_folded(normalized.segmented),
            )
        spans = [(m.start(), m.end()) for m in _WORD.finditer(text)]
        words = [text[a:b] for a, b in spans]
        found = self._scan(words, spans)
        if self._stems:
            found.extend(self._scan_stems(normalized.original, words, spans))
        if "proper_name" in self.detectors:
            found.extend(
                _spanned(h, spans)
                for h in _proper_name_hits(normalized, spans, self.detectors["proper_name"])
            )
        readings = list(normalized.readings)
        if normalized.joined:
            readings.extend(self._worth_splits(normalized.joined))
        if arabic:
            readings.extend(_arabic_readings(words, spans))
        if readings:
            found.extend(self._scan_readings(words, spans, readings))
        if normalized.segmented:
            found.extend(self._scan_readings(words, spans, list(normalized.segmented), True))
        if _CJK.search(text):
            found.extend(self._cjk_hits(text))
            if "age_under_18" in self.detectors and _KANA.search(text):
                target = self.detectors["age_under_18"]
                found.extend(
                    _Found(target, f"{m.group(1)} (schoolgirl)", m.start(), m.end())
                    for m in _JA_SCHOOLGIRL.finditer(text)
                )

        matches = [self._to_match(normalized, f) for f in found]
        softened = self._softened_categories(matches)
        matches = self._soften(_dedupe(matches), softened)
        matches.extend(self._combine(normalized, matches, softened))
        matches.sort(key=lambda m: (m.start, m.end, m.group))
        return _dedupe(matches)

    def _scan(self, words: list[str], spans: list[tuple[int, int]]) -> list[_Found]:
        """Term hits (less exceptions) and detector hits in the prompt's words."""
        hits = self._drop_excepted(words, self._matcher.find(words))
        if "age_under_18" in self.detectors:
            hits.extend(_age_hits(words, self.detectors["age_under_18"]))
        return [_spanned(h, spans) for h in hits]

    def _scan_stems(
        self, original: str, words: list[str], spans: list[tuple[int, int]]
    ) -> list[_Found]:
        """Hits of the prompt's language's terms, compared stem to stem (``stems``)."""
        code = stemming.prompt_language(original, words)
        if code is None or code not in self._stems:
            return []
        hits = self._stems[code].find(stemming.stem_words(code, words))
        return [_spanned(h, spans) for h in self._drop_excepted(words, hits)]

    def _drop_excepted(self, words: list[str], hits: list[_Hit]) -> list[_Hit]:
        """``hits`` less those whose every word an exception phrase covers (context
        groups are kept). Only exceptions that can cover a hit's words are looked up."""
        if not hits or not self.exceptions:
            return hits
        covered = [False] * len(words)
        reach = self._exceptions.longest - 1
        wanted = _merged([(h.first - reach, h.last) for h in hits])
        for exception in self._exceptions.find(words, ranges=wanted):
            for position in range(exception.first, exception.last + 1):
                covered[position] = True
        return [
            h for h in hits if not all(covered[h.first : h.last + 1]) or self._is_context(h.group)
        ]

    def _scan_readings(
        self,
        words: list[str],
        spans: list[tuple[int, int]],
        readings: list[tuple[int, int, str]],
        as_text: bool = False,
    ) -> list[_Found]:
        """Hits that another reading of a word makes, read with its neighbouring words.

        ``as_text``: the readings are runs of words read like the prompt's own text
        (segmented spaced letters), not checked for known words first."""
        found: list[_Found] = []
        context = self._context_words
        starts = [a for a, _ in spans]
        worth = self._worth
        if len(worth) > 50_000:
            worth.clear()
        covered: dict[tuple[int, int], tuple[int, int]] = {}
        all_words: list[str] = []
        all_spans: list[tuple[int, int]] = []
        segments: list[tuple[tuple[int, int], int, int, int]] = []
        for start, end, reading in readings:
            # Most readings (the splits of a spaced run) are not worth reading: decided
            # once per distinct reading, before anything else.
            if not as_text:
                verdict = worth.get(reading)
                if verdict is None:
                    verdict = worth[reading] = self._worth_reading(reading.split())
                if not verdict:
                    continue
            pieces = reading.split()  # readings hold words and single spaces only
            words_of = covered.get((start, end))
            if words_of is None:
                first = bisect.bisect_right(starts, start) - 1
                if first < 0 or spans[first][1] <= start:
                    first += 1
                last = first
                while last + 1 < len(spans) and spans[last + 1][0] < end:
                    last += 1
                words_of = covered[(start, end)] = (first, last)
            first, last = words_of
            before = max(0, first - context)
            window = [*words[before:first], *pieces, *words[last + 1 : last + 1 + context]]
            window_spans = [
                *spans[before:first],
                *_piece_spans(start, end, pieces),
                *spans[last + 1 : last + 1 + context],
            ]
            offset = len(all_words)
            own = (offset + first - before, offset + first - before + len(pieces) - 1)
            all_words.extend(window)
            segments.append((own, start, end, len(all_words)))
            all_words.append(_BARRIER)
            all_spans.extend(window_spans)
            all_spans.append((end, end))
        if segments:
            found.extend(self._scan_windows(all_words, all_spans, segments))
        return found

    def _scan_windows(
        self,
        words: list[str],
        spans: list[tuple[int, int]],
        segments: list[tuple[tuple[int, int], int, int, int]],
    ) -> list[_Found]:
        """``_scan`` of many readings' windows at once: ``words`` holds the windows one
        after another, each closed by ``_BARRIER`` (a word no term, exception or age
        pattern uses, so no hit spans two windows). Each segment is (the reading's own
        word indexes, its start, its end, the index of its barrier). Answers, window by
        window, the hits that include one of the reading's own words and touch its
        characters, in the order ``_scan`` gives them (term hits, then age hits)."""
        # As in ``_scan``: phrases only where a hit with the reading's words can start.
        reach = self._matcher.longest - 1
        hits = self._matcher.find(
            words, ranges=_merged([(own[0] - reach, own[1]) for own, *_ in segments])
        )
        hits = self._drop_excepted(words, hits)
        ages: list[_Hit] = []
        if "age_under_18" in self.detectors:
            target = self.detectors["age_under_18"]
            # An age hit found at word i spans i - 1 to i + 3.
            for around in _merged([(own[0] - 3, own[1] + 1) for own, *_ in segments]):
                ages.extend(_age_hits(words, target, around))
        # Hits never cross a barrier: each belongs to the window its first word is in.
        barriers = [segment[3] for segment in segments]
        by_window: list[list[_Hit]] = [[] for _ in segments]
        for hit in hits:
            by_window[bisect.bisect_left(barriers, hit.first)].append(hit)
        aged: list[list[_Hit]] = [[] for _ in segments]
        for hit in ages:
            aged[bisect.bisect_left(barriers, hit.first)].append(hit)
        found: list[_Found] = []
        for index, ((first, last), start, end, _) in enumerate(segments):
            for hit in (*by_window[index], *aged[index]):
                if hit.first <= last and hit.last >= first:
                    piece = _spanned(hit, spans)
                    if piece.start < end and piece.end > start:  # touches the other reading
                        found.append(piece)
        return found

    def _worth_splits(self, joined: Iterable[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
        """The readings of joined spaced letters as two or three words (in the order of
        ``normalize.splits``) that ``_worth_reading`` would keep."""
        splits = self._splits
        if len(splits) > 50_000:
            splits.clear()
        readings: list[tuple[int, int, str]] = []
        for start, end, value in joined:
            kept = splits.get(value)
            if kept is None:
                kept = splits[value] = self._splits_of(value)
            readings.extend((start, end, reading) for reading in kept)
        return readings

    def _splits_of(self, value: str) -> tuple[str, ...]:
        """``_worth_splits`` for one run, found without building the other readings: a
        three-word reading whose first word is unknown is skipped whole."""
        known = self._known_word
        size = len(value)
        readings: list[str] = []
        for cut in range(1, size):
            head, tail = value[:cut], value[cut:]
            if (cut > 1 and known(head)) or (size - cut > 1 and known(tail)):
                readings.append(f"{head} {tail}")
        for first in range(1, size - 1):
            head = value[:first]
            if first > 1 and not known(head):
                continue
            for second in three_way_seconds(size, first):
                middle, tail = value[first:second], value[second:]
                if self._worth_reading([head, middle, tail]):
                    readings.append(f"{head} {middle} {tail}")
        return tuple(readings)

    def _worth_reading(self, pieces: list[str]) -> bool:
        """Whether another reading can hit at all: one word must be a known word
        (a word of some term, exception or age phrase); a split of spaced letters
        into two words needs one known word (the other may be any word after it),
        into three every word of two letters or more known, or, after a one-letter
        word ("a", Cyrillic "а"), a known middle word of four letters or more and any
        word after it (``а м а л ы ш и д е в у ш к а``)."""
        if not pieces:
            return False
        known = self._known_word
        if len(pieces) == 1:
            return known(pieces[0])
        if len(pieces) == 2:
            return any(known(p) for p in pieces if len(p) > 1)
        longer = [p for p in pieces if len(p) > 1]
        if len(pieces) == 3 and len(pieces[0]) == 1 and len(pieces[1]) >= 4 and known(pieces[1]):
            return True
        return bool(longer) and all(known(p) for p in longer)

    def _known_word(self, word: str) -> bool:
        known = self._known.get(word)
        if known is None:
            matcher = self._matcher
            known = (
                word in self._vocabulary
                or number_value(word) is not None
                or (
                    word[:MIN_PREFIX] in matcher.prefix_heads
                    and any(word[:size] in matcher.single_prefix for size in matcher.prefix_sizes)
                )
            )
            if len(self._known) > 50_000:
                self._known.clear()
            self._known[word] = known
        return known

    def _cjk_hits(self, text: str) -> list[_Found]:
        """CJK terms anywhere in the CJK runs of the text, spaces between them ignored."""
        found: list[_Found] = []
        for run in _CJK_RUN.finditer(text):
            positions = [run.start() + i for i, c in enumerate(run.group()) if c != " "]
            joined = run.group().replace(" ", "")
            spaced = run.group()
            hits: list[tuple[int, int, int, str]] = []
            # Chinese and Japanese: spaces ignored; Korean: as written, spaces kept (and
            # long Korean phrases also with spaces ignored, see ``KOREAN_JOINED_MIN``).
            for korean, haystack in ((True, spaced), (False, joined)):
                index = self._cjk_index[korean]
                if not index:
                    continue
                for at in range(len(haystack)):
                    for head in (haystack[at : at + 2], haystack[at]):
                        for key in index.get(head, ()):
                            wanted = key if korean or " " not in key else "".join(key.split())
                            if haystack.startswith(wanted, at):
                                if korean:
                                    start = run.start() + at
                                    end = start + len(key)
                                else:
                                    start = positions[at]
                                    end = positions[at + len(wanted) - 1] + 1
                                hits.append((self._cjk_order[key], start, end, key))
            excepted = self._cjk_excepted(run.start(), spaced, joined, positions)
            for _, start, end, key in sorted(set(hits)):
                inside = any(a <= start and end <= b for a, b in excepted)
                for group, term in self._cjk_terms[key]:
                    if not inside or self._is_context(group):
                        found.append(_Found(group, term, start, end))
            if "age_under_18" in self.detectors:
                target = self.detectors["age_under_18"]
                for age in _CJK_AGE.finditer(joined):
                    value = _cjk_number(age.group(1))
                    if value is not None and value < ADULT_AGE:
                        start = positions[age.start()]
                        end = positions[age.end() - 1] + 1
                        found.append(_Found(target, f"age {value}", start, end))
        return found

    def _cjk_excepted(
        self, offset: int, spaced: str, joined: str, positions: list[int]
    ) -> list[tuple[int, int]]:
        """Spans of the CJK exception phrases in one run (a hit inside one is dropped,
        as for words: ``가야한다``, must go, is not ``야한``, racy)."""
        spans: list[tuple[int, int]] = []
        for korean, phrase in self._cjk_exceptions:
            haystack = spaced if korean else joined
            at = haystack.find(phrase)
            while at >= 0:
                if korean:
                    spans.append((offset + at, offset + at + len(phrase)))
                else:
                    spans.append((positions[at], positions[at + len(phrase) - 1] + 1))
                at = haystack.find(phrase, at + 1)
        return spans

    def _to_match(self, normalized: NormalizedPrompt, found: _Found) -> RuleMatch:
        group = self.groups.get(found.group)
        if group is None:  # detector hit: named by the detector's target
            category = found.group if found.group in CATEGORIES else None
            action = "indicator"
        else:
            category, action = group.category, group.action
        start, end = normalized.original_span(found.start, found.end)
        return RuleMatch(
            category=category,
            group=found.group,
            term=found.term,
            start=start,
            end=end,
            text=normalized.original[start:end],
            severity=self.severity.get(category, 0) if category else 0,
            action=action,
        )

    def _is_context(self, name: str) -> bool:
        group = self.groups.get(name)
        return group is not None and group.action == "context"

    def _softened_categories(self, matches: list[RuleMatch]) -> dict[str, str]:
        """Category -> the first context group in the prompt that softens it."""
        softened: dict[str, str] = {}
        for match in matches:
            group = self.groups.get(match.group)
            if group is not None and group.action == "context":
                for category in group.softens:
                    softened.setdefault(category, group.name)
        return softened

    def _soften(self, matches: list[RuleMatch], softened: dict[str, str]) -> list[RuleMatch]:
        """Deciding hits of a category that a context group present in the prompt softens."""
        if not softened:
            return matches
        return [
            replace(m, action="corroborate", softened_by=softened[m.category])
            if m.category in softened and m.action in ("block", "review", "corroborate")
            else m
            for m in matches
        ]

    def _combine(
        self, normalized: NormalizedPrompt, matches: list[RuleMatch], softened: dict[str, str]
    ) -> list[RuleMatch]:
        by_name: dict[str, list[RuleMatch]] = {}
        for match in matches:
            for name in {match.group, match.category}:
                if name is not None:
                    by_name.setdefault(name, []).append(match)
        combined = []
        places: dict[int, tuple[int, int]] = {}  # id(match): its span in the normalised text
        for rule in self.combinations:
            parts = [by_name.get(name) for name in rule.all]
            if not all(parts):
                continue
            hits = [p for p in parts if p]
            if rule.near is None:  # anywhere: the first hit of each part, as ever
                present, apart = tuple(part[0] for part in hits), 0
            else:
                present, apart = _closest(normalized, hits, places)
            action = rule.action
            if rule.near is not None and apart > rule.near:
                if rule.beyond is None:
                    continue
                # Far apart, the parts hold rather than block; unless one part blocks
                # on its own: the prompt is blocked either way, and the combination
                # names the graver category ("a 12 year old girl ... nude").
                if not any(h.action == "block" for part in hits for h in part):
                    action = rule.beyond
            start = min(p.start for p in present)
            end = max(p.end for p in present)
            context = softened.get(rule.category) if rule.softenable else None
            combined.append(
                RuleMatch(
                    category=rule.category,
                    group=rule.name,
                    term=" + ".join(p.term for p in present),
                    start=start,
                    end=end,
                    text=normalized.original[start:end],
                    severity=self.severity.get(rule.category, 0),
                    action="corroborate" if context else action,
                    softened_by=context,
                )
            )
        return combined


def _closest(
    normalized: NormalizedPrompt,
    parts: list[list[RuleMatch]],
    places: dict[int, tuple[int, int]],
) -> tuple[tuple[RuleMatch, ...], int]:
    """One hit of each part, the closest together, and how far apart they stand: the
    characters of the normalised prompt between the latest start and the earliest end
    (0 when they touch or overlap). Measured on the normalised text, so zero-width
    characters and the like neither push the parts apart nor pull them together.

    One sweep in order of start: at each start, the hit of each part seen so far that
    ends last is the best partner for any group whose latest start is there; ties go
    to the earliest group. ``places`` keeps each hit's span in the normalised text for
    the prompt's other combinations."""
    starts = normalized.starts
    for hits in parts:
        for m in hits:
            if id(m) not in places:
                places[id(m)] = (
                    bisect.bisect_left(starts, m.start),
                    bisect.bisect_left(starts, m.end),
                )
    events = sorted(
        (*places[id(m)], part, order, m)
        for part, hits in enumerate(parts)
        for order, m in enumerate(hits)
    )
    latest: list[tuple[int, int, RuleMatch] | None] = [None] * len(parts)
    best: tuple[RuleMatch, ...] = tuple(hits[0] for hits in parts)
    best_apart: int | None = None
    for start, end, part, _, match in events:
        held = latest[part]
        if held is None or end > held[0]:
            latest[part] = (end, start, match)
        if any(h is None for h in latest):
            continue
        chosen = [h for h in latest if h is not None]
        apart = max(0, max(h[1] for h in chosen) - min(h[0] for h in chosen))
        if best_apart is None or apart < best_apart:
            best, best_apart = tuple(h[2] for h in chosen), apart
    return best, best_apart or 0


def _dedupe(matches: list[RuleMatch]) -> list[RuleMatch]:
    seen: set[tuple[str, int, int]] = set()
    unique = []
    for match in matches:
        key = (match.group, match.start, match.end)
        if key not in seen:
            seen.add(key)
            unique.append(match)
    return unique


def number_value(word: str) -> int | None:
    """The number a word spells: digits, number words and misspelt "-teen" words."""
    if word.isdigit():
        return int(word) if len(word) <= 3 else None
    if word in _NUMBER_WORDS:
        return _NUMBER_WORDS[word]
    if not word.endswith(_TEEN_SUFFIXES):
        return None
    for suffix in _TEEN_SUFFIXES:
        if word.endswith(suffix) and len(word) <= 12:
            stem = word[: -len(suffix)]
            if stem in _TEEN_STEMS:
                return _TEEN_STEMS[stem]
    return None


def _age_hits(words: list[str], target: str, around: tuple[int, int] | None = None) -> list[_Hit]:
    """Ages under 18: "14 year old", "14 yrs old", "14yo", "age 12", "3 months old",
    "she is 12"; school grades 1 to 12 ("grade 5", "in 5th grade"); a birthday under 18
    ("her 11th birthday").

    ``around`` (first, last): look for hits found at those word indexes only.
    """
    hits: list[_Hit] = []
    count = len(words)

    def at(position: int) -> str:
        return words[position] if position < count else ""

    first, last = (0, count - 1) if around is None else around
    for index in range(max(0, first), min(count, last + 1)):
        word = words[index]
        if not _may_start_age(word):
            continue
        token_age = _AGE_TOKEN.fullmatch(word) if len(word) <= 10 and word[0].isdigit() else None
        if token_age is not None:
            age = int(token_age.group(1))
            last = index + 1 if at(index + 1) == "old" else index
            if age < ADULT_AGE:
                hits.append(_Hit(target, f"age {age}", index, last))
            continue
        ordinal = _ordinal_value(word)
        if ordinal is not None and index > 0:
            before, following = words[index - 1], at(index + 1)
            if following == "birthday" and before in _POSSESSIVES and ordinal < ADULT_AGE:
                hits.append(_Hit(target, f"birthday {ordinal}", index - 1, index + 1))
                continue
            if following == "grade" and before == "in" and 1 <= ordinal <= 12:
                hits.append(_Hit(target, f"grade {ordinal}", index - 1, index + 1))
                continue
        if word in ("age", "aged", "ages"):
            position = index + 1 if at(index + 1) != "of" else index + 2
            age_value = number_value(at(position))
            following = at(position + 1)
            if age_value is not None and following.isdigit() and len(following) == 1:
                age_value = number_value(at(position) + following)  # "age 9 0" is 90
            if age_value is not None and age_value < ADULT_AGE:
                hits.append(_Hit(target, f"age {age_value}", index, position))
            continue
        if word == "grade":  # "a grade 5 girl": school grades 1 to 12
            grade = number_value(at(index + 1))
            if grade is not None and 1 <= grade <= 12:
                hits.append(_Hit(target, f"grade {grade}", index, index + 1))
            continue
        if word in _CHILD_OF and at(index + 1) == "of":  # "a girl of 12", "of about 10"
            position = index + 3 if at(index + 2) in _LOOKS_FILLERS else index + 2
            age_value = number_value(at(position))
            if age_value is not None and age_value < ADULT_AGE:
                hits.append(_Hit(target, f"age {age_value}", index, position))
            continue
        if word in _I18N_AGE_BEFORE:  # Arabic "age 14"
            age_value = number_value(at(index + 1))
            if age_value is not None and age_value < ADULT_AGE:
                hits.append(_Hit(target, f"age {age_value}", index, index + 1))
                continue
            arabic = _arabic_number(words, index + 1)
            if arabic is not None and arabic[0] < ADULT_AGE:
                hits.append(_Hit(target, f"age {arabic[0]}", index, arabic[1]))
            continue
        if word in _AR_UNITS or word in _AR_TEN or word in _AR_ORDINALS:
            arabic = _arabic_number(words, index)
            if arabic is not None and arabic[0] < ADULT_AGE:
                spelled, end = arabic
                after = at(end + 1)
                ordinal_age = (
                    word in _AR_ORDINALS and after == "من" and at(end + 2) in _AR_AGE_AFTER
                )
                looks_age = (
                    word in _AR_ORDINALS
                    and index >= 2
                    and words[index - 1] == "في"
                    and words[index - 2] in _AR_LOOKS
                )
                if after in _I18N_YEAR_WORDS or ordinal_age:
                    hits.append(
                        _Hit(target, f"age {spelled}", index, end + (2 if ordinal_age else 1))
                    )
                elif looks_age:
                    hits.append(_Hit(target, f"age {spelled}", index - 2, end))
            continue
        compound = _compound_age(word)
        if compound is not None:
            if compound < ADULT_AGE:
                hits.append(_Hit(target, f"age {compound}", index, index))
            continue
        value = number_value(word)
        if value is not None and len(word) == 1 and word.isdigit():
            # Digits written apart ("2 0 year old" is twenty): read them together.
            if at(index + 1).isdigit() and len(at(index + 1)) == 1:
                continue
            if index > 0 and words[index - 1].isdigit() and len(words[index - 1]) == 1:
                value = int(words[index - 1] + word)
        if value is None:
            value = _I18N_NUMBERS.get(word)
            if value is None:
                continue
        following = at(index + 1)
        if following in _I18N_YEAR_WORDS or _compound_age(following, bare=True) is not None:
            if value < ADULT_AGE:
                hits.append(_Hit(target, f"age {value}", index, index + 1))
            continue
        if following in _YEAR_WORDS:
            if at(index + 2) in ("old", "o"):
                last = index + 2
            elif at(index + 2) == "of" and at(index + 3) == "age":
                last = index + 3
            else:
                continue
            if value < ADULT_AGE:
                hits.append(_Hit(target, f"age {value}", index, last))
        elif following in ("yo", "yro") and value < ADULT_AGE:
            hits.append(_Hit(target, f"age {value}", index, index + 1))
        elif following in _YOUNG_UNITS and at(index + 2) == "old" and value < 60:
            hits.append(_Hit(target, f"age {value} {following}", index, index + 2))
        elif value == ADULT_AGE and index > 0 and words[index - 1] == "under":
            hits.append(_Hit(target, "under 18", index - 1, index))
        elif word.isdigit() and index > 0 and _aged_person(words[index - 1], value, following):
            hits.append(_Hit(target, f"age {value}", index - 1, index))
        elif (  # German "ihr 11. Geburtstag" (her 11th birthday)
            1 <= value < ADULT_AGE
            and word.isdigit()
            and following == "geburtstag"
            and index > 0
            and words[index - 1] in _GERMAN_POSSESSIVES
        ):
            hits.append(_Hit(target, f"birthday {value}", index - 1, index + 1))
        elif (  # "she is 12", "a girl who's twelve"; not "6 feet", "10 out of 10", "6 4"
            1 <= value < ADULT_AGE
            and (start := _age_subject_before(words, index)) is not None
            and word not in ("2", "4")  # "who is 2 hot", "she is 4 real": "too", "for"
            and following not in _NOT_AN_AGE_AFTER
            and following not in _NOT_AN_AGE_AFTER_IS
            and not following.isdigit()
            and not (
                following.endswith("s") and not following.endswith("ss") and len(following) > 3
            )
        ):
            hits.append(_Hit(target, f"age {value}", start, index))
        elif (
            1 <= value < ADULT_AGE
            and following not in _NOT_AN_AGE_AFTER
            and not (  # a plural: "like 2 girls" (not "topless", "dress")
                following.endswith("s") and not following.endswith("ss") and len(following) > 3
            )
        ):
            looks = _looks_before(words, index)
            if looks is not None:  # "a girl who looks 12", "looking about 10"
                hits.append(_Hit(target, f"looks {value}", looks, index))
    return hits


def _aged_person(person: str, value: int, following: str) -> bool:
    """Whether a bare number ``value`` right after the word ``person`` is an age: "girl
    (11)", "a boy, 12,"; after a word for anyone, only a teenage number with no unit or
    count after it ("a cheerleader, 15,"; not "woman 2", "woman 16 bit")."""
    if person in _AGED_PERSON:
        return 1 <= value < ADULT_AGE
    return (
        person in _AGED_PERSON_TEEN
        and TEEN_AGES[0] <= value < ADULT_AGE
        and following not in _NOT_AN_AGE_AFTER_PERSON
    )


def _age_subject_before(words: list[str], index: int) -> int | None:
    """Where "she is" (a person word and "is", English or German) or Russian "ей" / "ему"
    (to her / to him: "ей двенадцать", she is twelve) starts right before the number at
    ``index``; else None."""
    if index >= 2 and words[index - 1] in _IS and words[index - 2] in _AGE_SUBJECTS:
        return index - 2
    if index >= 1 and words[index - 1] in ("ей", "ему"):
        return index - 1
    return None


def _ordinal_value(word: str) -> int | None:
    """The number an ordinal spells ("11th", "eleventh"), up to 99; else None."""
    if word in _ORDINAL_WORDS:
        return _ORDINAL_WORDS[word]
    token = _ORDINAL_TOKEN.fullmatch(word) if word[:1].isdigit() and len(word) <= 4 else None
    return int(token.group(1)) if token is not None else None


def _arabic_number(words: list[str], index: int) -> tuple[int, int] | None:
    """(value, last index) of an Arabic number in words starting at ``index``: a unit or
    ordinal, with عشر / عشرة after it for the teens; عشر / عشرة alone is ten, unless a
    unit stands before it (then the number started there)."""
    word = words[index] if index < len(words) else ""
    following = words[index + 1] if index + 1 < len(words) else ""
    if word in _AR_TEN:
        if index > 0 and (words[index - 1] in _AR_UNITS or words[index - 1] in _AR_ORDINALS):
            return None
        return 10, index
    value = _AR_UNITS.get(word) or _AR_ORDINALS.get(word)
    if value is None or (following.startswith("و") and len(following) > 3):
        return None  # "خمسة وعشرون": five and twenty
    if following in _AR_TEN and value < 10:
        return value + 10, index + 1
    return value, index


def _looks_before(words: list[str], index: int) -> int | None:
    """The index of "looks" (or "looking", "appears"...) right before the number at
    ``index``, with at most one of "like" / "about" / "around" between; else None."""
    position = index - 1
    if position >= 0 and words[position] in _LOOKS_FILLERS:
        position -= 1
    if position >= 0 and words[position] in _LOOKS:
        return position
    return None


@functools.lru_cache(maxsize=65_536)
def _may_start_age(word: str) -> bool:
    """Whether ``_age_hits`` can find an age at this word (most words: no)."""
    return (
        word[:1].isdigit()
        or word in _AGE_STARTERS
        or number_value(word) is not None
        or _compound_age(word) is not None
    )


def _compound_age(word: str, *, bare: bool = False) -> int | None:
    """The age a word like "vierzehnjährige", "14jahrige" or "열네살" gives (else None).

    ``bare``: the word is "jährige" itself (after "14-"): any value counts as a unit.
    """
    if not word.endswith(_AGE_SUFFIXES):
        return None
    for suffix in _AGE_SUFFIXES:
        if word.endswith(suffix):
            stem = word[: -len(suffix)]
            if bare:
                return 0 if not stem and suffix in _GERMAN_AGED else None
            if not stem:
                return None
            if stem.isdigit() and len(stem) <= 2:
                return int(stem)
            return _I18N_NUMBERS.get(stem)
    return None


def _proper_name_hits(
    normalized: NormalizedPrompt, spans: list[tuple[int, int]], target: str
) -> list[_Hit]:
    """Two consecutive capitalised words in the original prompt ("Jane Doe")."""
    hits: list[_Hit] = []
    previous_capitalised = False
    previous_end = -2
    for index, (start, end) in enumerate(spans):
        first, last = normalized.original_span(start, end)
        original_word = normalized.original[first:last]
        capitalised = (
            len(original_word) >= 2
            and original_word[0].isupper()
            and original_word[1:].islower()
            and original_word.isalpha()
        )
        if capitalised and previous_capitalised and start == previous_end + 1:
            hits.append(_Hit(target, "proper name", index - 1, index))
        previous_capitalised = capitalised
        previous_end = end
    return hits


def load_ruleset_dict(path: Path | str = DEFAULT_RULES_PATH) -> dict[str, Any]:
    """Read a rules JSON file and inline the term files it names (terms/<file>), with
    the terms of the other-language lists by language (``stems``)."""
    rules_path = Path(path)
    with open(rules_path, encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    terms_dir = rules_path.parent / "terms"
    for spec in data["groups"].values():
        if "file" in spec:
            term_file = terms_dir / str(spec.pop("file"))
            spec["terms"] = read_term_file(term_file)
            if term_file.name.startswith(stemming.STEMMED_FILES):
                with open(term_file, encoding="utf-8") as handle:
                    by_language = stemming.term_languages(handle)
                if by_language:
                    spec["stems"] = by_language
    if "exceptions_file" in data:
        data["exceptions"] = read_term_file(terms_dir / data.pop("exceptions_file"))
    return data


def read_term_file(path: Path) -> list[str]:
    """One term per line; blank lines and ``#`` comments are ignored."""
    terms = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            term = line.split("#", 1)[0].strip().lower()
            if term:
                terms.append(term)
    return terms


@functools.cache
def default_ruleset() -> RuleSet:
    """The built-in rules shipped in ``moderation/data`` (cached per process)."""
    return RuleSet.from_dict(load_ruleset_dict())
