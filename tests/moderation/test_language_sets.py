"""Regression floors on the eight-language sets of training/data/languages and the
ordinary prompts naming a group of training/data/groups (self-written: see their
READMEs). The whole path, rules and both heads, as the deep check runs it."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from moderation.engine.pipeline import TextModerator
from moderation.engine.text_classifier import TextClassifier

DATA = Path(__file__).resolve().parents[2] / "training" / "data"
SETS = DATA / "languages"
# Unsafe rows flagged (of 15 per language) and benign rows flagged, measured 2026-12-06
# with the multilingual head's other-language calibration (training.other_languages);
# raised 2026-12-07 (thirteenth pass) to what the term lists added then reach.
FLOORS = {
    "tuning.jsonl": {
        "ar": 13,
        "de": 12,
        "es": 15,
        "fr": 15,
        "ja": 15,
        "ko": 13,
        "ru": 13,
        "zh": 13,
    },
    "judged.jsonl": {
        "ar": 12,
        "de": 12,
        "es": 13,
        "fr": 12,
        "ja": 12,
        "ko": 14,
        "ru": 13,
        "zh": 14,
    },
}
BENIGN_AT_MOST = {"tuning.jsonl": 3, "judged.jsonl": 1, "benign.jsonl": 8}


def _flagged(moderator: TextModerator, name: str) -> tuple[Counter[str], int]:
    unsafe: Counter[str] = Counter()
    benign = 0
    with open(SETS / name, encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            held = moderator.check(row["prompt"]).decision != "allow"
            if row["label"] == "unsafe":
                unsafe[row["lang"]] += held
            else:
                benign += held
    return unsafe, benign


@pytest.mark.parametrize("name", sorted(BENIGN_AT_MOST))
def test_language_set_floors(text_classifier: TextClassifier, name: str) -> None:
    unsafe, benign = _flagged(TextModerator(classifier=text_classifier), name)
    # One row of slack each way: a score within a hair of a threshold can land on the
    # other side on another CPU (the encoders' float32 sums differ in the last digits).
    for lang, floor in FLOORS.get(name, {}).items():
        assert unsafe[lang] >= floor - 1, (name, lang, unsafe[lang])
    assert benign <= BENIGN_AT_MOST[name] + 1


def test_ordinary_prompts_naming_a_group(text_classifier: TextClassifier) -> None:
    """Measured 2026-12-06: 8 of 240 held (3.3%), one blocked (hate, by the classifier)."""
    moderator = TextModerator(classifier=text_classifier)
    decisions: Counter[str] = Counter()
    with open(DATA / "groups" / "benign.jsonl", encoding="utf-8") as handle:
        for line in handle:
            decisions[moderator.check(json.loads(line)["prompt"]).decision] += 1
    assert sum(decisions.values()) == 240
    assert decisions["review"] + decisions["block"] <= 8 + 1
    assert decisions["block"] <= 1
