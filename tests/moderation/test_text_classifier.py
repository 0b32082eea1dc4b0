from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from moderation.engine.pipeline import TextModerator
from moderation.engine.text_classifier import ModelNotBuiltError, TextClassifier

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_importing_the_engine_does_not_import_torch():
    code = (
        "import sys; import moderation.engine.pipeline, moderation.engine.evaluate, "
        "moderation.engine.text_classifier; print('torch' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_missing_model_names_the_build_command(tmp_path: Path):
    with pytest.raises(ModelNotBuiltError, match=r"scripts/build_text_model\.py"):
        TextClassifier.load(path=tmp_path)


def test_scores_are_probabilities(text_classifier: TextClassifier):
    scores = text_classifier.scores("a lighthouse on a cliff at dawn")
    assert set(scores) == {"sexual", "violence_graphic", "hate", "self_harm", "illegal"}
    assert all(0.0 <= value <= 1.0 for value in scores.values())
    assert sum(scores.values()) <= 1.0 + 1e-5


def test_sexual_paraphrase_scores_above_art_prompt(text_classifier: TextClassifier):
    # No listed term: the classifier, not the rules, must see the intent.
    paraphrase = "a woman wearing absolutely nothing, lying on silk sheets, everything on show"
    art = "a woman in a blue coat reading by a window, oil painting, soft light"
    assert text_classifier.scores(paraphrase)["sexual"] > text_classifier.scores(art)["sexual"]


def test_violent_paraphrase_scores_above_art_prompt(text_classifier: TextClassifier):
    paraphrase = "a man's face smashed open, teeth scattered on the pavement, red everywhere"
    art = "a man walking his dog along a pavement in autumn, photograph"
    violent = text_classifier.scores(paraphrase)["violence_graphic"]
    assert violent > text_classifier.scores(art)["violence_graphic"]


def test_single_prompt_scores_are_deterministic(text_classifier: TextClassifier):
    prompt = "a quiet harbour at night"
    assert text_classifier.scores(prompt) == text_classifier.scores(prompt)


def test_moderator_with_classifier_allows_ordinary_prompt(text_classifier: TextClassifier):
    verdict = TextModerator(classifier=text_classifier).check(
        "a bowl of oranges on a wooden table, still life"
    )
    assert verdict.decision == "allow"
