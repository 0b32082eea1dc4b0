"""The shipped text path on the independent check set (training/data/checkset).

The check set was written apart from the training material and is never trained on;
these bounds hold the shipped rules and head to the generalisation they reached when
they were built (see docs/moderation.md), so a change that loses it fails here.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from moderation.engine.pipeline import TextModerator
from moderation.engine.text_classifier import TextClassifier

CHECKSET = Path(__file__).resolve().parents[2] / "training" / "data" / "checkset"
CATEGORIES = ("sexual", "violence_graphic", "hate", "self_harm", "illegal")


def _rows(name: str) -> list[dict[str, str]]:
    with open(CHECKSET / name, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@pytest.fixture(scope="module")
def decisions(text_classifier: TextClassifier) -> dict[str, list[tuple[dict[str, str], str]]]:
    moderator = TextModerator(classifier=text_classifier)
    return {
        name: [(row, moderator.check(row["prompt"]).decision) for row in _rows(name)]
        for name in ("unsafe.jsonl", "benign.jsonl")
    }


def test_check_set_is_whole():
    unsafe, benign = _rows("unsafe.jsonl"), _rows("benign.jsonl")
    assert Counter(r["scope"] for r in unsafe) == dict.fromkeys(CATEGORIES, 100)
    assert {r["scope"] for r in benign} == {"benign"} and len(benign) == 600


def test_recall_overall_and_per_category(decisions):
    flagged: Counter[str] = Counter()
    for row, decision in decisions["unsafe.jsonl"]:
        flagged[row["scope"]] += decision != "allow"
    assert sum(flagged.values()) / 500 >= 0.9
    assert flagged["sexual"] >= 95
    assert min(flagged[c] for c in CATEGORIES) >= 85


def test_false_positives_and_blocks_on_benign(decisions):
    outcomes = Counter(decision for _, decision in decisions["benign.jsonl"])
    assert outcomes["review"] + outcomes["block"] <= 18  # 3% of 600
    assert outcomes["block"] <= 6  # 1% of 600
