"""The synthetic training prompts: deterministic, in every style, adults only."""

from __future__ import annotations

from collections import Counter

import pytest

from moderation.engine.rules import default_ruleset
from training.synthetic import MODULES, STYLES, generate

WORD_LISTS = ("SUBJECTS", "ACTIONS", "SCENES", "SETTINGS", "TAGS", "SENTENCES")


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    return generate(per_category=300, benign=600, seed=7)


def test_generate_is_deterministic_and_exactly_sized(rows: list[dict[str, str]]):
    assert generate(per_category=300, benign=600, seed=7) == rows
    assert generate(per_category=300, benign=600, seed=8) != rows
    assert Counter(r["scope"] for r in rows) == {
        "sexual": 300,
        "violence_graphic": 300,
        "hate": 300,
        "self_harm": 300,
        "illegal": 300,
        "benign": 600,
    }


def test_no_prompt_repeats_within_a_category(rows: list[dict[str, str]]):
    for scope in MODULES:
        prompts = [r["prompt"].lower() for r in rows if r["scope"] == scope]
        assert len(prompts) == len(set(prompts)), scope


def test_every_style_is_used_for_every_category(rows: list[dict[str, str]]):
    for scope in MODULES:
        styles = {r["style"] for r in rows if r["scope"] == scope}
        assert styles == set(STYLES), scope


@pytest.mark.parametrize("scope", sorted(MODULES))
def test_word_lists_are_unique_and_present(scope: str):
    module = MODULES[scope]
    for name in WORD_LISTS:
        items = getattr(module, name)
        assert isinstance(items, tuple) and len(items) >= 20, (scope, name)
        assert all(isinstance(i, str) and i and i.strip() == i for i in items), (scope, name)
        assert len(items) == len(set(items)), (scope, name)


def test_sexual_training_prompts_never_involve_minors():
    # Every sexual prompt the generator can write is about adults: none may carry a
    # minor indicator (words or ages under 18) or trip the sexual_minors rules.
    ruleset = default_ruleset()
    generated = generate(per_category=1500, benign=0, seed=0)
    sexual = [r["prompt"] for r in generated if r["scope"] == "sexual"]
    flagged = [
        p
        for p in sexual
        if any(m.category in ("minors", "sexual_minors") for m in ruleset.match(p))
    ]
    assert len(sexual) == 1500
    assert flagged == []
