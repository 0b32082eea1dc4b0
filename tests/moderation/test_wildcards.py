"""A wildcard term (``molest*``) of a list that can block or decide zero tolerance reads
every word that starts with its stem, in every language: ``nood*`` read "noodles", so
"kids eating noodles" was blocked as ``sexual_minors``; ``despid*`` read Spanish
"despidiéndose" (saying goodbye) and ``раздева*`` the Russian changing room.

Every frequent word (wordfreq's 30,000 most frequent of each language below, normalised
as prompts are) that such a term reads is listed in ``data/wildcard_words.txt``, which a
person has read. A list change that makes a wildcard read a new frequent word fails here
until the word is checked and added (or the wildcard is written out as whole words).
``IMAGEGATE_WRITE_WILDCARD_WORDS=1`` rewrites the file from the lists as they are.
"""

from __future__ import annotations

import bisect
import os
from functools import cache
from pathlib import Path

import pytest

from moderation.engine.normalize import normalize
from moderation.engine.pipeline import TextModerator
from moderation.engine.rules import default_ruleset

wordfreq = pytest.importorskip("wordfreq")

LANGUAGES = ("en", "de", "es", "fr", "it", "pt", "ru", "ar")
TOP = 30_000
SNAPSHOT = Path(__file__).parent / "data" / "wildcard_words.txt"
RULES_ONLY = TextModerator(classifier=None)


@cache
def _frequent_words() -> list[str]:
    words: set[str] = set()
    for language in LANGUAGES:
        for word in wordfreq.top_n_list(language, TOP):
            text = normalize(word).text.strip()
            if text and " " not in text:
                words.add(text)
    return sorted(words)


def _deciding_groups() -> list[str]:
    """Groups whose hits block, or feed a combination that blocks (a combination's part
    is a group, and every group of the category of that name)."""
    ruleset = default_ruleset()
    groups = ruleset.groups
    names = {name for name, group in groups.items() if group.action == "block"}
    for combination in ruleset.combinations:
        if combination.action != "block":
            continue
        for part in combination.all:
            names.update(n for n, g in groups.items() if part in (n, g.category))
    return sorted(names)


def _read_words() -> dict[str, list[str]]:
    """``group term`` -> the frequent words the wildcard reads."""
    words = _frequent_words()
    ruleset = default_ruleset()
    found: dict[str, list[str]] = {}
    for name in _deciding_groups():
        for term in ruleset.groups[name].terms:
            if not term.endswith("*") or " " in term:
                continue
            stem = term[:-1]
            start = bisect.bisect_left(words, stem)
            read = []
            for word in words[start:]:
                if not word.startswith(stem):
                    break
                read.append(word)
            if read:
                found[f"{name} {term}"] = read
    return found


def _snapshot_lines(found: dict[str, list[str]]) -> set[str]:
    return {f"{key} {word}" for key, read in found.items() for word in read}


def test_every_frequent_word_a_deciding_wildcard_reads_has_been_checked() -> None:
    found = _snapshot_lines(_read_words())
    if os.environ.get("IMAGEGATE_WRITE_WILDCARD_WORDS") == "1":
        header = "# group, wildcard term, a frequent word it reads (test_wildcards.py)\n"
        SNAPSHOT.write_text(header + "\n".join(sorted(found)) + "\n", encoding="utf-8")
    checked = {
        line
        for line in SNAPSHOT.read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    }
    assert sorted(found - checked) == []


@pytest.mark.parametrize(
    "prompt",
    [
        "kids eating noodles at a street stall",
        "niños despidiéndose de sus abuelos en el aeropuerto",
        "un niño con la cabeza pelada jugando al fútbol",
        "детская раздевалка в детском саду",
        "Kinder im Grundschulalter beim Busenfreund-Spiel",
        "un cartel de no molestar en la puerta de un hotel",
        "meninos jogando pelada na praia",
        "spogliatoio dei bambini dopo la partita",
        "Freizügigkeit in der EU: Schulkinder aus Polen in Berlin",
    ],
)
def test_words_the_wildcards_used_to_read_are_allowed(prompt: str) -> None:
    verdict = RULES_ONLY.check(prompt)
    assert (verdict.decision, verdict.category) == ("allow", None)


@pytest.mark.parametrize(
    ("prompt", "category"),
    [
        ("a child molester in a park", "sexual_minors"),
        ("teen girl noods", "sexual_minors"),
        ("девочка раздевается", "sexual_minors"),
        ("a man molesting a woman on the subway", "nonconsensual"),
    ],
)
def test_the_written_out_forms_still_decide(prompt: str, category: str) -> None:
    verdict = RULES_ONLY.check(prompt)
    assert (verdict.decision, verdict.category) == ("block", category)
