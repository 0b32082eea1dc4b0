"""Inflected forms of the other-language terms, matched by their Snowball stems.

The term lists carry one form of each word ("gefälschter Personalausweis", "порезать
вены"); a prompt writes another ("einen gefälschten Personalausweis", "порезала себе
вены"). German adjectives decline, Romance nouns and adjectives take gender and number,
Russian and Arabic inflect nearly every word. Listing every form would multiply the
lists (tried: 15 → 41 MB of rules, docs/moderation.md), and cutting the prompt's words
with one stemmer for every language collided across languages (Spanish "negro", black,
met the stem of a French slur). So:

- Each term belongs to a language: Cyrillic terms to Russian and Arabic-script terms to
  Arabic, by their letters; Latin terms by the ``# --- German`` (Spanish, French,
  Italian, Portuguese) section of the term file they stand in (``term_languages``).
  Latin terms outside such a section (mixed blocks) get no stemmed form.
- A prompt is read in one language at most (``prompt_language``): by its script for
  Russian and Arabic; Latin text by the common function words it uses ("der", "und";
  "los", "con"; "les", "avec"...): the language with the most, two at least (one beside
  an accented letter), and more than any other. An English prompt has none of them or
  too few.
- Then the prompt's words and that language's terms are compared stem to stem
  (``snowballstemmer``, BSD-3-Clause, pure Python; its stemmers ship inside the
  package). A single-word term whose stem is shorter than ``MIN_STEM`` letters, or drops
  more than ``MAX_CUT`` letters of it, is matched only as written: short stems, and
  stems cut back past an inflection, are those of other words too; so are Arabic
  single-word terms (``PHRASES_ONLY``).

The rules (``RuleSet``) keep each term's group, so a stemmed hit acts as the term does.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from typing import Any

import snowballstemmer

# The languages of the term lists that Snowball stems, by code.
STEMMERS = {
    "de": "german",
    "es": "spanish",
    "fr": "french",
    "it": "italian",
    "pt": "portuguese",
    "ru": "russian",
    "ar": "arabic",
}
SECTION_LANGUAGES = {
    "german": "de",
    "spanish": "es",
    "french": "fr",
    "italian": "it",
    "portuguese": "pt",
    "russian": "ru",
    "arabic": "ar",
}
LATIN_LANGUAGES = ("de", "es", "fr", "it", "pt")
MIN_STEM = 4
# A one-word term whose stem drops more letters than this lost a derivational ending, not
# an inflection, and its stem is that of other words: Spanish "provocativa" (provocative)
# and "provoca" (causes) are both "provoc"; "ahorcarse" (to hang oneself) and "el juego
# del ahorcado" (hangman) are both "ahorc". Such a term is matched as written.
MAX_CUT = 2
# The lists whose terms are also compared stem to stem: the other languages' own block
# and review lists. Not the indicator lists that combine into zero tolerance (minors,
# sexual indicators): they enumerate their forms on purpose, beside exceptions, because
# a stem there is an ordinary word too (Russian соблазнить, to seduce, has the stem of
# соблазн, temptation: "дети и соблазн сладостей" would lock an account).
STEMMED_FILES = ("i18n_",)
# Arabic's stemmer also removes derivational endings: the stem of جماع (intercourse) is
# that of جماعي (communal, "a communal iftar"). Its single words keep the rules' own
# prefix handling; only its phrases are compared stem to stem.
PHRASES_ONLY = frozenset({"ar"})

_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_ARABIC = re.compile(r"[\u0600-\u06ff]")
_LETTER = re.compile(r"[^\W\d_]")
_ACCENTED = re.compile(r"[\u00c0-\u00ff\u0100-\u017f]")
_SECTION = re.compile(r"#\s*---\s*([A-Za-z]+)")
# Common function words of the Latin-script languages (accents removed, as the
# normaliser removes them). A Latin prompt is read in the language whose words it uses
# most, at least ``MIN_FUNCTION_WORDS`` of them, and more than any other language's: no
# language model is loaded (py3langid keeps ~78 MB in every process that asks it, and
# the request path runs in the web process).


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


FUNCTION_WORDS = {
    "de": _words(
        "der das und mit ein eine einen einem einer nicht auf ist sich von zu im dem wie "
        "fur uber auch oder sie ich wird nem nen beim vom zum zur sind"
    ),
    "es": _words(
        "el los las unos unas del por para muy como sus esta este hace y un una con en dos "
        "que se su"
    ),
    "fr": _words(
        "le les des une avec dans pour est sur du au aux et qui ses cette sont elle je "
        "ou un en que se"
    ),
    "it": _words("il gli della delle nel nella sono che di degli uno questa questo le un una con"),
    "pt": _words("os uma com dos das em nao seu sua pelo pela um ao que"),
}
# Words English prompts also use ("in", "a", "die", "den", "no", "lo", "al", "per") are
# left out; words two languages share count for both, so only the others decide.
MIN_FUNCTION_WORDS = 2

_LOCAL = threading.local()


def _stemmer(code: str) -> Any:
    """This thread's stemmer for ``code`` (Snowball's stemmer objects keep state)."""
    held: dict[str, Any] | None = getattr(_LOCAL, "stemmers", None)
    if held is None:
        held = _LOCAL.stemmers = {}
    stemmer = held.get(code)
    if stemmer is None:
        stemmer = held[code] = snowballstemmer.stemmer(STEMMERS[code])
    return stemmer


def stem_words(code: str, words: Sequence[str]) -> list[str]:
    """``words`` (normalised: lower case, accents removed) cut to their stems."""
    return list(_stemmer(code).stemWords(list(words)))


def script_language(text: str) -> str | None:
    """ "ru" or "ar" when most of ``text``'s letters are Cyrillic or Arabic, else None."""
    letters = len(_LETTER.findall(text))
    if not letters:
        return None
    if len(_CYRILLIC.findall(text)) * 2 > letters:
        return "ru"
    if len(_ARABIC.findall(text)) * 2 > letters:
        return "ar"
    return None


def prompt_language(original: str, words: Sequence[str]) -> str | None:
    """The one language of ``STEMMERS`` a prompt is read in, or None (see module rules).
    ``words``: the normalised prompt's words."""
    by_script = script_language(original)
    if by_script is not None:
        return by_script
    counts = {
        code: sum(1 for word in words if word in function_words)
        for code, function_words in FUNCTION_WORDS.items()
    }
    best = max(counts.values())
    # One function word is enough beside an accented letter (English has almost none).
    if best < MIN_FUNCTION_WORDS - bool(_ACCENTED.search(original)):
        return None
    leaders = [code for code, count in counts.items() if count == best]
    return leaders[0] if len(leaders) == 1 else None


def term_languages(lines: Iterable[str]) -> dict[str, list[str]]:
    """The terms of a term file (its lines) by language, for the stemmed comparison.

    Cyrillic and Arabic-script terms by their letters. Latin terms by the ``# ---
    Language`` section they stand in; a comment line that opens another kind of block
    (it starts with a capital letter or a digit and is no section header) ends the
    section, so the Latin terms of a mixed block belong to none. Terms as
    ``rules.read_term_file`` reads them (lower case, comments removed)."""
    found: dict[str, list[str]] = {}
    section: str | None = None
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("#"):
            header = _SECTION.match(stripped)
            if header is not None:
                section = SECTION_LANGUAGES.get(header.group(1).lower())
            elif stripped.lstrip("# ")[:1].isupper() or stripped.lstrip("# ")[:1].isdigit():
                section = None
            continue
        term = stripped.split("#", 1)[0].strip().lower()
        if not term:
            continue
        code = script_language(term)
        if code is None and _LETTER.search(term) and not _CYRILLIC.search(term):
            code = section if section in LATIN_LANGUAGES else None
        if code is not None:
            found.setdefault(code, []).append(term)
    return found
