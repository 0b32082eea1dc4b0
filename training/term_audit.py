"""Which frequent ordinary words the shipped rules read as a listed term (issue 11).

Usage::

    python -m training.term_audit --words FILE [--words FILE ...] [--top N] [--inside]
        [--all-groups]

Each ``FILE`` lists words of one language, one per line, most frequent first, optionally
followed by a tab and a frequency (a count or a Zipf value; lines are then sorted by it).
Every word is read alone through the shipped rules (``default_ruleset()``: normalisation,
term lists, exceptions), and each word some deciding or sexual/minor indicator group
matches is printed with the group and the term, most frequent first. Chinese, Japanese
and Korean terms are matched without word boundaries, so "イエロー" (yellow) once read as
"エロ", and a term of one language can be an ordinary word of another ("dessous",
French for "below", is German for lingerie): this is how the exceptions of rules
``builtin-2026-12-07.2`` were found (docs/moderation.md). A word the exceptions already
cover no longer appears. The output is for a person to read: most words it prints are
the listed meaning itself.

Word lists are not shipped (for example, ``wordfreq``'s lists can be exported with
``wordfreq.get_frequency_dict(lang)``); nothing here downloads anything.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from moderation.engine.rules import RuleSet, default_ruleset  # noqa: E402

# Indicator groups whose hit, with a minor, blocks and locks: worth auditing too.
AUDITED_INDICATORS = frozenset({"sexual_indicator", "minors", "minors_extra", "underwear"})


@dataclass(frozen=True)
class Reading:
    word: str
    frequency: float
    group: str
    term: str
    matched: str


def read_words(path: Path) -> list[tuple[str, float]]:
    """``(word, frequency)`` pairs, most frequent first (file order without numbers)."""
    rows: list[tuple[str, float]] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            parts = line.rstrip("\n").split("\t")
            word = parts[0].strip()
            if not word or word.startswith("#"):
                continue
            try:
                frequency = float(parts[1]) if len(parts) > 1 else -float(number)
            except ValueError:
                frequency = -float(number)
            rows.append((word, frequency))
    rows.sort(key=lambda row: -row[1])
    return rows


def audit(
    words: Iterable[tuple[str, float]],
    ruleset: RuleSet,
    *,
    all_groups: bool = False,
    inside: bool = False,
) -> Iterator[Reading]:
    """Each frequent word that a deciding group (or an audited indicator) matches;
    ``inside``: only where the term is a part of a longer word (CJK)."""
    for word, frequency in words:
        for match in ruleset.match(word):
            if inside and len(match.text.strip()) >= len(word.strip()):
                continue
            group = ruleset.groups.get(match.group)
            if group is None:  # a detector or a combination rule
                continue
            deciding = group.action in ("block", "review", "corroborate")
            if not (all_groups or deciding or match.group in AUDITED_INDICATORS):
                continue
            yield Reading(word, frequency, match.group, match.term, match.text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--words", type=Path, action="append", required=True)
    parser.add_argument("--top", type=int, default=50_000, help="words read per file")
    parser.add_argument(
        "--all-groups", action="store_true", help="every group, context and person too"
    )
    parser.add_argument(
        "--inside", action="store_true", help="only terms inside a longer word (CJK)"
    )
    args = parser.parse_args(argv)
    ruleset = default_ruleset()
    print(f"# rules {ruleset.version}")
    for path in args.words:
        words = read_words(path)[: args.top]
        print(f"# {path}: {len(words)} words")
        found = audit(words, ruleset, all_groups=args.all_groups, inside=args.inside)
        for reading in found:
            print(
                f"{reading.frequency:g}\t{reading.word}\t{reading.group}\t{reading.term}"
                f"\t{reading.matched}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
