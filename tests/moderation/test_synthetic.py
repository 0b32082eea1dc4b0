"""The synthetic training prompts: deterministic, in every style, adults only."""

from __future__ import annotations

from collections import Counter

import pytest

from moderation.engine.rules import default_ruleset
from training.features import TRAINING_ONLY, clause_fragments, load_prose
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


def test_scene_style_keeps_children_out_of_unsafe_prompts():
    # The long "scene" style puts a category's own scene among ordinary clauses; no
    # ordinary clause beside it may name a child.
    generated = generate(per_category=400, benign=0, seed=3)
    scenes = [r for r in generated if r["style"] == "scene"]
    ruleset = default_ruleset()
    assert len(scenes) > 100
    assert [
        r["prompt"]
        for r in scenes
        if any(m.category == "minors" for m in ruleset.match(r["prompt"]))
    ] == []


def test_clause_fragments_are_runs_of_clauses_of_benign_rows():
    rows = [
        {
            "prompt": "a red barn, two horses in a field, a dog asleep by the gate, rain",
            "scope": "benign",
        },
        {
            "prompt": "a knife fight in an alley, blood on the walls, neon signs",
            "scope": "violence_graphic",
        },
        {"prompt": "a cat on a sofa", "scope": "benign"},  # fewer than 3 clauses
    ]
    fragments = clause_fragments(rows, seed=0, per_row=3)
    assert fragments == clause_fragments(rows, seed=0, per_row=3)
    assert 1 <= len(fragments) <= 3
    clauses = ["a red barn", "two horses in a field", "a dog asleep by the gate"]
    for row in fragments:
        assert row["scope"] == "benign" and row["source"] == "fragments"
        parts = row["prompt"].split(", ")
        assert 1 <= len(parts) <= 3
        assert ", ".join(parts) in ", ".join(clauses)
    assert len({r["prompt"] for r in fragments}) == len(fragments)


def test_long_benign_prose_is_benign_and_read_as_training_only():
    prose = load_prose()
    assert len(prose) == 360
    assert all(r["scope"] == "benign" and r["source"] == "prose" for r in prose)
    assert {"prose", "fragments"} <= set(TRAINING_ONLY)
    ruleset = default_ruleset()
    blocking = [
        r["prompt"][:60]
        for r in prose
        if any(
            m.category in ("sexual", "sexual_minors", "nonconsensual")
            for m in ruleset.match(r["prompt"])
        )
    ]
    assert blocking == []
