from __future__ import annotations

import json

import numpy as np
import pytest

from moderation.engine.lexicon import DEFAULT_LEXICON_PATH, MAX_FEATURE, LexiconFeatures
from moderation.engine.normalize import normalize
from moderation.engine.text_classifier import TextClassifier, TextHead


def test_counts_whole_words_plurals_and_prefixes():
    lexicon = LexiconFeatures({"gore": ["blood*", "corpse"], "weapons": ["knife"]})
    counts = lexicon.counts(normalize("Bloody corpses, a KNIFE, bloodstained").text)
    assert counts == {"gore": 3, "weapons": 1}
    assert lexicon.counts("a cumulus cloud over a pegboard") == {"gore": 0, "weapons": 0}


def test_vector_is_capped_log_counts_in_name_order():
    lexicon = LexiconFeatures({"a": ["red"], "b": ["blue"]})
    vector = lexicon.vector("red " * 50 + "blue")
    assert vector[0] == pytest.approx(MAX_FEATURE)
    assert vector[1] == pytest.approx(np.log1p(1))


def test_default_lexicon_reuses_rule_lists_and_has_no_identity_words():
    lexicon = LexiconFeatures.load()
    assert "sexual_explicit" in lexicon.names and "violence_soft" in lexicon.names
    data = json.loads(DEFAULT_LEXICON_PATH.read_text())
    soft = {t for g in data["groups"].values() for t in g.get("terms", ())}
    assert not soft & {"gay", "muslim", "jewish", "black people", "transgender"}
    assert lexicon.vector("a quiet harbour at night").sum() == 0


def test_head_trained_on_another_lexicon_is_refused(text_classifier: TextClassifier):
    data = text_classifier.head.to_dict()
    data["metadata"]["lexicon"] = dict(data["metadata"]["lexicon"], digest="0" * 16)
    with pytest.raises(ValueError, match="lexicon"):
        TextClassifier(text_classifier.embedder, TextHead.from_dict(data))


def test_classifier_features_append_lexicon(text_classifier: TextClassifier):
    features = text_classifier.features(["a bloody knife"])
    assert features.shape == (1, text_classifier.head.weights.shape[1])
    assert features[0, 768:].sum() > 0
