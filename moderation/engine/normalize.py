"""Prompt normalisation: undo the spelling tricks people use to get past filters.

Rules, applied in this order, each a single linear pass over the text:
1. Per character: Unicode NFKC (fullwidth, ligatures, circled and mathematical
   letters), then accents stripped (NFKD minus combining marks), then case folding.
2. Zero-width, format (Cf), control (Cc) and unassigned characters are removed;
   every run of whitespace becomes one space.
3. Confusables: small capitals and regional-indicator letters fold to the Latin
   letter they imitate. Accents are stripped from Latin and Greek letters only
   (Cyrillic keeps ``й``, Japanese keeps its voicing marks, Hangul stays composed);
   Arabic alef forms fold to ``ا`` (presentation forms too), tatweel is dropped.
4. Prompt-weight syntax: the brackets ``( ) [ ] { }`` become spaces and a weight
   ``:1.3`` right before a closing bracket is dropped, so ``(word:1.3)`` -> ``word``.
5. Leetspeak, only inside a word that also contains letters: ``0 3 4 5 7 @ $``
   -> ``o e a s t a s``, ``1`` -> ``l`` at a word start and ``i`` elsewhere, ``! |``
   between letters -> ``i l``. A leading or trailing run of digits is kept when it is
   a number with a unit (``14yo``, ``4k``, ``1990s``, ``2girls``) or longer than one
   digit, so ages and sizes survive.
6. Spaced-out letters: three or more single letters separated by the same
   separator (space, ``.``, ``-``, ``_``, ``*``, ``·``) are joined: ``n u d e`` ->
   ``nude``.
7. Scripts, per word: a word mixing Latin with Cyrillic or Greek letters is written
   in its majority script, lookalikes folded (``пopно`` -> ``порно``, ``nudе`` ->
   ``nude``). A whole Cyrillic or Greek word stays in its language, unless the prompt
   is mostly Latin and every letter of the word is a lookalike (``ѕех`` in an English
   prompt reads ``sex``); in a prompt mostly in Cyrillic, a Cyrillic word has no Latin
   reading either (``сим``, SIM, is not ``cum``).

Other readings: ``readings`` lists, per word of the text, the other ways it can be
read, for the rules layer to try against its term lists: every leetspeak reading
of digits and symbols (``53x`` -> ``sex``, ``corp53`` -> ``corpse``, ``1`` as ``i``
or ``l``, ``0`` as ``o``) and the other script of a mixed or lookalike word.
``joined`` lists the words joined from spaced letters, which can also be read as
two or three words (``a n u d e`` -> ``a nude``; ``n u d e w o m a n`` -> ``nude
woman``): ``split_readings()`` lists every such split, and the rules layer
enumerates only the splits whose words it knows (a 10-letter run has 45 splits).

Every output character keeps the span of original characters it came from, so a
match in the normalised text can be shown in the original prompt. The work is
linear in the length of the prompt; the caller rejects prompts longer than
``MAX_PROMPT_CHARS`` (they are never truncated).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import compress

MAX_PROMPT_CHARS = 2000

_CONFUSABLES: dict[str, str] = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "з": "3", "и": "u", "к": "k", "м": "m",
    "н": "h", "о": "o", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s",
    "і": "i", "ї": "i", "ј": "j", "ԁ": "d", "ԛ": "q", "ԝ": "w", "һ": "h", "ӏ": "l",
    "ү": "y", "ѵ": "v", "ь": "b", "п": "n", "г": "r", "ո": "n", "ս": "u", "օ": "o",
    # Greek
    "α": "a", "β": "b", "γ": "y", "δ": "d", "ε": "e", "ζ": "z", "η": "n", "ι": "i",
    "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "σ": "o", "ς": "c", "τ": "t", "υ": "u",
    "χ": "x", "ω": "w", "μ": "u",
    # small capitals and other Latin lookalikes
    "ᴀ": "a", "ʙ": "b", "ᴄ": "c", "ᴅ": "d", "ᴇ": "e", "ꜰ": "f", "ɢ": "g", "ʜ": "h",
    "ɪ": "i", "ᴊ": "j", "ᴋ": "k", "ʟ": "l", "ᴍ": "m", "ɴ": "n", "ᴏ": "o", "ᴘ": "p",
    "ʀ": "r", "ꜱ": "s", "ᴛ": "t", "ᴜ": "u", "ᴠ": "v", "ᴡ": "w", "ʏ": "y", "ᴢ": "z",
    "ı": "i", "ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ŧ": "t", "ƅ": "b", "ɑ": "a",
    "ɡ": "g", "ɩ": "i", "ɵ": "o", "ʋ": "u", "ƒ": "f",
}  # fmt: skip

_LEET: dict[str, str] = {"0": "o", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
_LEET_BETWEEN_LETTERS: dict[str, str] = {"!": "i", "|": "l"}
# Every reading of a digit or symbol, for ``readings`` (the text keeps one of them).
_LEET_READINGS: dict[str, tuple[str, ...]] = {
    "0": ("o",), "1": ("i", "l"), "3": ("e",), "4": ("a",), "5": ("s",), "6": ("g", "b"),
    "7": ("t",), "8": ("b",), "9": ("g",), "@": ("a",), "$": ("s",), "!": ("i",),
    "|": ("l", "i"),
}  # fmt: skip
_MAX_READINGS_PER_WORD = 16
_MAX_THREE_WAY_SPLIT = 12
_MAX_READ_WORD = 32  # longer words (no real word) get no other readings
# Latin letters and the Cyrillic letters they imitate (for mixed Cyrillic words).
_LATIN_TO_CYRILLIC: dict[str, str] = {
    "a": "а", "b": "в", "c": "с", "e": "е", "h": "н", "k": "к", "m": "м", "n": "п",
    "o": "о", "p": "р", "r": "г", "t": "т", "u": "и", "x": "х", "y": "у", "3": "з",
}  # fmt: skip
_LATIN_TO_GREEK: dict[str, str] = {
    "a": "α", "b": "β", "e": "ε", "i": "ι", "k": "κ", "n": "η", "o": "ο", "p": "ρ",
    "t": "τ", "u": "υ", "v": "ν", "w": "ω", "x": "χ", "z": "ζ",
}  # fmt: skip
# Arabic alef forms and tatweel; German sharp s; the ligatures œ and æ, which NFKD keeps
# as one letter ("œil" reads as the lists write it, "oeil").
_ARABIC_FOLD: dict[str, str] = {
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ـ": "", "ß": "ss", "ẞ": "ss",
    "œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae",
}  # fmt: skip
# Arabic letters written for one another, folded where terms are matched
# (``match_fold``) and not in the text the classifiers read, whose encoders know the
# spelling as written: ta marbuta and ha (``عاريه`` for ``عارية``), alef maqsura and ya.
_MATCH_FOLD = str.maketrans({"ة": "ه", "ى": "ي"})
_SCRIPT_WORD = re.compile(r"[^\W_]+")
# A number followed by one of these is a quantity, not leetspeak ("14yo", "4k").
_NUMBER_UNITS = frozenset(
    [
        "yo",
        "yr",
        "yrs",
        "y",
        "yearold",
        "years",
        "year",
        "k",
        "d",
        "s",
        "th",
        "st",
        "nd",
        "rd",
        "m",
        "mm",
        "cm",
        "km",
        "px",
        "x",
        "am",
        "pm",
        "h",
        "hr",
        "hrs",
        "min",
        "mins",
        "fps",
        "gb",
        "mb",
        "kb",
        "ml",
        "l",
        "kg",
        "g",
        "lb",
        "lbs",
        "ft",
        "in",
        "p",
        "girl",
        "girls",
        "boy",
        "boys",
        "man",
        "men",
        "woman",
        "women",
        "people",
        "guys",
        "v",
        "b",
    ]
)
_SPACING_SEPARATORS = frozenset(" .-_*·")
_BRACKETS = frozenset("()[]{}")
_CLOSING = frozenset(")]}")
_WEIGHT_CHARS = _BRACKETS | {":"}
_SMALL_CAPITALS = frozenset(ord(c) for c in _CONFUSABLES if not 0x0370 <= ord(c) <= 0x052F)
# Cyrillic lookalikes that Russian does not use: a word of them is a disguise.
_NON_RUSSIAN = frozenset("ѕіјԁԛԝһӏүѵ")
_LEET_HINT = re.compile(r"[0-9@$!|]")
# Scripts written without spaces between words (kana, CJK ideographs, Hangul).
_UNSPACED = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\u1100-\u11ff"
_UNSPACED_SCRIPT = re.compile(f"[{_UNSPACED}]")
_NOT_UNSPACED_SCRIPT = re.compile(f"[^{_UNSPACED}]+")
_STANDALONE_LETTER = re.compile(r"(?<![^\W_])[^\W\d_](?![^\W_])")
_PRINTABLE_ASCII_RUN = re.compile(r"[\x20-\x7e]+")
_NON_SPACE_RUN = re.compile(r"\S+")
# A run of what ``_undo_leetspeak`` treats as one word: letters, digits, leet symbols.
_LEET_RUN = re.compile(r"(?:[^\W_]|[@$!|])+")


@dataclass(frozen=True)
class NormalizedPrompt:
    """The normalised text and, per character, the original span it came from."""

    original: str
    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    changes: dict[str, int] = field(default_factory=dict)
    # (start, end, other reading) per word of ``text`` that can be read otherwise.
    readings: tuple[tuple[int, int, str], ...] = ()
    # (start, end, letters) per word joined from spaced letters (and its other script):
    # it may also be read as two or three words; ``split_readings`` lists every split.
    joined: tuple[tuple[int, int, str], ...] = ()
    # (start, end, words) per joined run whose letters stood apart by two widths
    # ("n u d e  w o m a n"): the run cut where the gap was wider, read as text.
    segmented: tuple[tuple[int, int, str], ...] = ()

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a half-open span of ``text`` to the half-open span of ``original``."""
        if not self.text or start >= end:
            return (0, 0)
        return (self.starts[start], self.ends[end - 1])

    def original_text(self, start: int, end: int) -> str:
        first, last = self.original_span(start, end)
        return self.original[first:last]

    def split_readings(self) -> list[tuple[int, int, str]]:
        """Every reading of a joined run of spaced letters as two or three words."""
        readings: list[tuple[int, int, str]] = []
        for start, end, value in self.joined:
            readings.extend((start, end, " ".join(words)) for words in splits(value))
        return readings


class _Buffer:
    """Characters with their original spans, rebuilt by each pass."""

    __slots__ = ("chars", "ends", "starts")

    def __init__(self) -> None:
        self.chars: list[str] = []
        self.starts: list[int] = []
        self.ends: list[int] = []

    def add(self, char: str, start: int, end: int) -> None:
        self.chars.append(char)
        self.starts.append(start)
        self.ends.append(end)


def normalize(text: str) -> NormalizedPrompt:
    """Normalise ``text`` (see the module docstring for the rules)."""
    changes = {
        "unicode": 0,
        "invisible_removed": 0,
        "confusables": 0,
        "weight_syntax": 0,
        "leetspeak": 0,
        "spacing_joined": 0,
    }
    buffer = _fold_characters(text, changes)
    buffer = _strip_weight_syntax(buffer, changes)
    buffer = _undo_leetspeak(buffer, changes)
    buffer = _join_spaced_letters(buffer, changes)
    buffer = _collapse_spaces(buffer)
    readings: list[tuple[int, int, str]] = []
    if not text.isascii():
        _fold_scripts(buffer, changes, readings)
    folded = "".join(buffer.chars)
    if changes["leetspeak"] or _LEET_HINT.search(folded):
        readings.extend(_leet_readings(folded, buffer, text))
    joined = _joined_words(folded, buffer, readings) if changes["spacing_joined"] else []
    segmented = _segmented_runs(folded, buffer) if changes["spacing_joined"] else []
    return NormalizedPrompt(
        original=text,
        text=folded,
        starts=tuple(buffer.starts),
        ends=tuple(buffer.ends),
        changes={k: v for k, v in changes.items() if v},
        readings=tuple(readings),
        joined=tuple(joined),
        segmented=tuple(segmented),
    )


def _fold_characters(text: str, changes: dict[str, int]) -> _Buffer:
    out = _Buffer()
    if text.isascii() and text.isprintable():  # the common case: one C-level pass
        out.chars = list(text.lower())
        out.starts = list(range(len(text)))
        out.ends = list(range(1, len(text) + 1))
        return out
    position = 0
    for plain in _PRINTABLE_ASCII_RUN.finditer(text):  # copy printable ASCII runs whole
        _fold_slowly(text, position, plain.start(), out, changes)
        start, end = plain.span()
        out.chars.extend(plain.group().lower())
        out.starts.extend(range(start, end))
        out.ends.extend(range(start + 1, end + 1))
        position = end
    _fold_slowly(text, position, len(text), out, changes)
    return out


def _fold_slowly(text: str, begin: int, stop: int, out: _Buffer, changes: dict[str, int]) -> None:
    """Fold ``text[begin:stop]`` (no printable ASCII run inside) character by character."""
    for index in range(begin, stop):
        char = text[index]
        if char.isascii():
            if char.isprintable():
                out.add(char.lower(), index, index + 1)
            else:  # control characters: whitespace ones become a space
                if char in "\t\n\r\x0b\x0c":
                    out.add(" ", index, index + 1)
                else:
                    changes["invisible_removed"] += 1
            continue
        folded = _fold_one(char)
        if folded is None:
            changes["invisible_removed"] += 1
            continue
        if folded != char:
            if any(c in "abcdefghijklmnopqrstuvwxyz0123456789" for c in folded) and (
                char.lower() in _CONFUSABLES or 0x1F1E6 <= ord(char) <= 0x1F1FF
            ):
                changes["confusables"] += 1
            else:
                changes["unicode"] += 1
        for piece in folded:
            out.add(piece, index, index + 1)


def _fold_one(char: str) -> str | None:
    """Fold one non-ASCII character; None means drop it."""
    category = unicodedata.category(char)
    if category in ("Cf", "Cc", "Cn", "Co", "Cs") or category == "Mn":
        return None
    if category.startswith("Z"):
        return " "
    if 0x1F1E6 <= ord(char) <= 0x1F1FF:  # regional indicator letters
        return chr(ord("a") + ord(char) - 0x1F1E6)
    if char in _ARABIC_FOLD:
        return _ARABIC_FOLD[char] or None
    composed = unicodedata.normalize("NFKC", char)
    pieces: list[str] = []
    for part in composed:
        if part in _ARABIC_FOLD:  # a presentation form composes to a folded letter
            pieces.append(_ARABIC_FOLD[part])
            continue
        if _keeps_marks(part):  # Cyrillic "й", kana voicing, Hangul syllables
            pieces.append(unicodedata.normalize("NFC", part.lower().replace("ё", "е")))
            continue
        for base in unicodedata.normalize("NFKD", part):
            if unicodedata.category(base) in ("Mn", "Me", "Cf"):
                continue
            lowered = base.lower()
            pieces.append("".join(_fold_lookalike(c) for c in lowered))
    return "".join(pieces)


def match_fold(text: str) -> str:
    """Normalised ``text`` as the rules match it: Arabic ta marbuta as ``ه`` and alef
    maqsura as ``ي``. One character for one, so every span still holds."""
    return text.translate(_MATCH_FOLD)


def _keeps_marks(char: str) -> bool:
    """Letters whose marks are part of the letter: everything but Latin and Greek."""
    code = ord(char)
    if code < 0x0250 or 0x1E00 <= code <= 0x1FFF or 0x0370 <= code <= 0x03FF:
        return False  # Latin, Latin Extended, Greek: accents are stripped
    return char.isalpha() and code not in _SMALL_CAPITALS


def _fold_lookalike(char: str) -> str:
    """Small capitals and Latin lookalikes fold; Cyrillic and Greek wait for the word."""
    if _is_cyrillic_or_greek(char):
        return char
    return _CONFUSABLES.get(char, char)


def _is_cyrillic_or_greek(char: str) -> bool:
    code = ord(char)
    return 0x0370 <= code <= 0x052F


def _fold_scripts(
    buffer: _Buffer, changes: dict[str, int], readings: list[tuple[int, int, str]]
) -> None:
    """Write each word with Cyrillic or Greek letters in one script (module rule 7)."""
    chars = buffer.chars
    text = "".join(chars)
    latin = sum(1 for c in text if "a" <= c <= "z")
    other = sum(1 for c in text if _is_cyrillic_or_greek(c))
    if not other:
        return
    mostly_latin = latin > other
    words = list(_SCRIPT_WORD.finditer(text))
    for position, word in enumerate(words):
        value = word.group()
        foreign = [c for c in value if _is_cyrillic_or_greek(c)]
        if not foreign:
            continue
        as_latin = "".join(_CONFUSABLES.get(c, c) for c in value).replace("3", "e")
        greek = sum(1 for c in foreign if ord(c) < 0x0400)
        to_native = _LATIN_TO_GREEK if greek * 2 > len(foreign) else _LATIN_TO_CYRILLIC
        native_letters = sum(1 for c in value if c.isalpha() and not ("a" <= c <= "z"))
        latin_letters = sum(1 for c in value if "a" <= c <= "z")
        as_native = "".join(to_native.get(c, c) for c in value)
        all_lookalikes = all(c in _CONFUSABLES for c in foreign)
        if latin_letters:  # mixed: the majority script, the other as a reading
            primary, other_reading = (
                (as_latin, as_native) if latin_letters >= native_letters else (as_native, as_latin)
            )
        elif all_lookalikes and (
            not _NON_RUSSIAN.isdisjoint(foreign)
            or (mostly_latin and not _next_to_cyrillic_or_greek(words, position))
        ):
            primary, other_reading = as_latin, value
        else:
            # Read as Latin among Latin words (a disguise there), and a Greek word (Greek
            # is no supported language); in a Russian prompt a word of lookalike letters
            # is a Russian word ("сим" in "сим-карта" is not "cum", "пи" is not "nu").
            disguise = all_lookalikes and (mostly_latin or to_native is _LATIN_TO_GREEK)
            primary, other_reading = value, as_latin if disguise else value
        if primary != value:
            changes["confusables"] += sum(1 for a, b in zip(primary, value, strict=True) if a != b)
            chars[word.start() : word.end()] = list(primary)
        # The other script, when it is a whole reading (no half-Latin "пиdе").
        whole = other_reading == as_latin or not any("a" <= c <= "z" for c in other_reading)
        if other_reading != primary and whole:
            readings.append((word.start(), word.end(), other_reading))


def _next_to_cyrillic_or_greek(words: list[re.Match[str]], position: int) -> bool:
    """Whether a neighbouring word has Cyrillic or Greek letters (a phrase in that language)."""
    for neighbour in (position - 1, position + 1):
        if 0 <= neighbour < len(words) and any(
            _is_cyrillic_or_greek(c) for c in words[neighbour].group()
        ):
            return True
    return False


def _leet_readings(text: str, buffer: _Buffer, original: str) -> list[tuple[int, int, str]]:
    """Every leetspeak reading of each word with digits or symbols (1 as i or l...)."""
    readings: list[tuple[int, int, str]] = []
    for word in _LEET_RUN.finditer(text):
        start, end = word.span()
        if end - start > _MAX_READ_WORD:
            continue
        if not _LEET_HINT.search(original, buffer.starts[start], buffer.ends[end - 1]):
            continue  # no digit or symbol behind this word
        options: list[tuple[str, ...]] = []
        ambiguous = False
        for index in range(start, end):
            source = _source_char(original, buffer, index)
            choices = _LEET_READINGS.get(source)
            current = text[index]
            if choices is None:
                options.append((current,))
                continue
            ambiguous = True
            # The text already holds one reading; the others are the letters only.
            options.append(choices if current.isdigit() or current in choices else (current,))
        if not ambiguous or not any("a" <= c <= "z" for c in word.group()):
            continue
        seen = {word.group()}
        for reading in _products(options, _MAX_READINGS_PER_WORD):
            if reading not in seen:
                seen.add(reading)
                readings.append((start, end, reading))
    return readings


def _products(options: list[tuple[str, ...]], limit: int) -> list[str]:
    results = [""]
    for choices in options:
        results = [r + c for r in results for c in choices][: limit * 2]
    return results[:limit]


def _source_char(original: str, buffer: _Buffer, index: int) -> str:
    """The character of the original prompt that ``text[index]`` came from, folded."""
    piece = original[buffer.starts[index] : buffer.ends[index]]
    if len(piece) != 1:
        return ""
    return piece if piece.isascii() else unicodedata.normalize("NFKC", piece)


def _joined_words(
    text: str, buffer: _Buffer, others: list[tuple[int, int, str]]
) -> list[tuple[int, int, str]]:
    """Words joined from spaced letters (and their other script), to be read as splits."""
    joined: list[tuple[int, int, str]] = []
    other_script = {(a, b): r for a, b, r in others if b - a == len(r)}
    for word in _SCRIPT_WORD.finditer(text):
        start, end = word.span()
        if not 3 <= end - start <= _MAX_READ_WORD or not any(
            buffer.starts[i + 1] > buffer.ends[i] for i in range(start, end - 1)
        ):
            continue
        for value in (word.group(), other_script.get((start, end))):
            if value is not None:
                joined.append((start, end, value))
    return joined


def _segmented_runs(text: str, buffer: _Buffer) -> list[tuple[int, int, str]]:
    """Joined runs of spaced letters cut into words where the letters stood further apart
    than elsewhere in the run: "n u d e  w o m a n" (one space between letters, two
    between words) -> "nude woman". Any length: a fully spaced prompt is one run."""
    segmented: list[tuple[int, int, str]] = []
    starts, ends = buffer.starts, buffer.ends
    for word in _SCRIPT_WORD.finditer(text):
        start, end = word.span()
        if end - start < 4:
            continue
        gaps = [starts[i + 1] - ends[i] for i in range(start, end - 1)]
        narrow = min(gaps)
        if narrow < 1 or max(gaps) <= narrow:
            continue  # letters not apart, or apart evenly: no word boundary to see
        pieces = [text[start]]
        for offset, gap in enumerate(gaps, start=start + 1):
            if gap > narrow:
                pieces.append(" ")
            pieces.append(text[offset])
        segmented.append((start, end, "".join(pieces)))
    return segmented


def splits(value: str) -> Iterator[tuple[str, ...]]:
    """A joined run read as two words (every cut), then three words (every pair of
    cuts; in a run longer than ``_MAX_THREE_WAY_SPLIT`` only beside a one-letter word)."""
    size = len(value)
    for cut in range(1, size):
        yield (value[:cut], value[cut:])
    for first in range(1, size - 1):
        for second in three_way_seconds(size, first):
            yield (value[:first], value[first:second], value[second:])


def three_way_seconds(size: int, first: int) -> range:
    """The second cuts of three-word readings of a run of ``size`` letters cut at ``first``."""
    if size > _MAX_THREE_WAY_SPLIT and first != 1:
        return range(size - 1, size)
    return range(first + 1, size)


def _strip_weight_syntax(buffer: _Buffer, changes: dict[str, int]) -> _Buffer:
    chars = buffer.chars
    if _WEIGHT_CHARS.isdisjoint(chars):
        return buffer
    out = _Buffer()
    count = len(chars)
    index = 0
    for special in [i for i, char in enumerate(chars) if char in _WEIGHT_CHARS]:
        if special < index:
            continue
        out.chars.extend(chars[index:special])  # the run before it, unchanged
        out.starts.extend(buffer.starts[index:special])
        out.ends.extend(buffer.ends[index:special])
        index = special
        if chars[special] in _BRACKETS:
            out.add(" ", buffer.starts[special], buffer.ends[special])
            changes["weight_syntax"] += 1
            index = special + 1
            continue
        # ":1.3)" -> drop the weight; the scan never revisits a character.
        probe = special + 1
        while probe < count and (chars[probe].isdigit() or chars[probe] in ". "):
            probe += 1
        if probe > special + 1 and probe < count and chars[probe] in _CLOSING:
            changes["weight_syntax"] += 1
            index = probe
            continue
        out.add(":", buffer.starts[special], buffer.ends[special])
        index = special + 1
    out.chars.extend(chars[index:])
    out.starts.extend(buffer.starts[index:])
    out.ends.extend(buffer.ends[index:])
    return out


def _is_leet_candidate(char: str) -> bool:
    return char in _LEET or char == "1" or char in _LEET_BETWEEN_LETTERS


def _undo_leetspeak(buffer: _Buffer, changes: dict[str, int]) -> _Buffer:
    chars = buffer.chars
    # Runs of letters, digits and leet symbols, found in C; a run of letters only has
    # nothing to undo, which is almost every word of an ordinary prompt.
    for run in _LEET_RUN.finditer("".join(chars)):
        if run.group().isalpha():
            continue
        if _UNSPACED_SCRIPT.search(run.group()) is None:
            _undo_leetspeak_word(chars, run.start(), run.end(), changes)
            continue
        # Chinese, Japanese and Korean are written without spaces, so a run holds whole
        # phrases: "一个13岁的女孩" is a number among words, not leetspeak. Only the parts
        # in other scripts are read as words.
        for part in _NOT_UNSPACED_SCRIPT.finditer(run.group()):
            if not part.group().isalpha():
                _undo_leetspeak_word(
                    chars, run.start() + part.start(), run.start() + part.end(), changes
                )
    return buffer


def _undo_leetspeak_word(chars: list[str], start: int, end: int, changes: dict[str, int]) -> None:
    word = "".join(chars[start:end])
    letters = [i for i, c in enumerate(word) if c.isalpha()]
    if not letters:
        return
    first_letter, last_letter = letters[0], letters[-1]
    core = word[first_letter : last_letter + 1]
    lead, tail = word[:first_letter], word[last_letter + 1 :]
    # A quantity ("14yo", "4k", "1990s", "2girls") is not leetspeak.
    if lead.isdigit() and (len(lead) > 1 or core in _NUMBER_UNITS or len(core) < 2):
        return
    tail_is_number = tail.isdigit() and (len(tail) > 1 or len(core) < 3)
    for offset, char in enumerate(word):
        if char.isalpha():
            continue
        position = start + offset
        inside = first_letter < offset < last_letter
        if offset > last_letter and tail_is_number:
            break
        if char in _LEET_BETWEEN_LETTERS:
            if inside:
                chars[position] = _LEET_BETWEEN_LETTERS[char]
                changes["leetspeak"] += 1
            continue
        if char == "1":
            chars[position] = "l" if offset == 0 else "i"
            changes["leetspeak"] += 1
        elif char in _LEET:
            chars[position] = _LEET[char]
            changes["leetspeak"] += 1


def _join_spaced_letters(buffer: _Buffer, changes: dict[str, int]) -> _Buffer:
    chars = buffer.chars
    # Necessary condition, checked in C: at least three standalone letters.
    candidates = list(_STANDALONE_LETTER.finditer("".join(chars)))
    if len(candidates) < 3:
        return buffer
    count = len(chars)
    drop = [False] * count
    index = 0
    for candidate in candidates:
        if candidate.start() < index or not _is_single_letter(chars, candidate.start()):
            continue
        index = candidate.start()
        # Walk letter, separator run, letter, ... with one kind of separator.
        letters = [index]
        separator = ""
        probe = index + 1
        while probe < count:
            run_start = probe
            while probe < count and chars[probe] in _SPACING_SEPARATORS:
                probe += 1
            length = probe - run_start
            if length == 1:
                kind = chars[run_start]
            elif length == 2:
                first, second = chars[run_start], chars[run_start + 1]
                if first == second:
                    kind = first
                elif " " in (first, second):  # one space and one other mark
                    kind = " " + (second if first == " " else first)
                else:
                    break  # two different marks
            else:
                break  # no separator, or more than two
            if separator and kind != separator:
                break
            if probe < count and _is_single_letter(chars, probe):
                separator = kind
                letters.append(probe)
                probe += 1
            else:
                break
        if len(letters) >= 3:
            for position in range(letters[0], letters[-1] + 1):
                if chars[position] in _SPACING_SEPARATORS:
                    drop[position] = True
            changes["spacing_joined"] += 1
            index = letters[-1] + 1
    if not any(drop):
        return buffer
    keep = [not dropped for dropped in drop]
    out = _Buffer()
    out.chars = list(compress(chars, keep))
    out.starts = list(compress(buffer.starts, keep))
    out.ends = list(compress(buffer.ends, keep))
    return out


def _is_single_letter(chars: list[str], index: int) -> bool:
    if not chars[index].isalpha():
        return False
    before = chars[index - 1] if index > 0 else " "
    after = chars[index + 1] if index + 1 < len(chars) else " "
    return not before.isalnum() and not after.isalnum()


def _collapse_spaces(buffer: _Buffer) -> _Buffer:
    text = "".join(buffer.chars)
    if " ".join(text.split()) == text:  # nothing to collapse or strip
        return buffer
    out = _Buffer()
    previous_end = -1
    for word in _NON_SPACE_RUN.finditer(text):
        start, end = word.span()
        if previous_end >= 0:  # one space, spanning the first character of the gap
            out.add(" ", buffer.starts[previous_end], buffer.ends[previous_end])
        out.chars.extend(buffer.chars[start:end])
        out.starts.extend(buffer.starts[start:end])
        out.ends.extend(buffer.ends[start:end])
        previous_end = end
    return out
