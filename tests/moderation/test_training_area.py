"""Training material stays out of the deployed app; the trainer has no fixed paths."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
APP_DIRS = ("accountability", "accounts", "billing", "console", "core", "generation",
            "imagegate", "moderation", "scripts")  # fmt: skip


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_no_app_module_imports_the_training_area():
    offenders = [
        str(path.relative_to(REPO))
        for folder in APP_DIRS
        for path in (REPO / folder).rglob("*.py")
        if "training" in _imports(path)
    ]
    assert offenders == []


def test_training_material_left_the_app():
    data = REPO / "moderation" / "data"
    for moved in ("prototypes.json", "checkset", "finalset", "testset3", "testset4"):
        assert not (data / moved).exists()
        assert (REPO / "training" / "data" / moved).exists()
    assert not (REPO / "scripts" / "synthetic").exists()
    assert not (REPO / "scripts" / "train_text_head.py").exists()


def test_nothing_reads_a_fixed_evaluation_path():
    for folder in (*APP_DIRS, "training"):
        for path in (REPO / folder).rglob("*.py"):
            assert "/work/shared" not in path.read_text(encoding="utf-8"), path


def test_trainer_requires_the_evaluation_set_folder(capsys: pytest.CaptureFixture[str]):
    from training.train import main

    with pytest.raises(SystemExit) as stopped:
        main([])
    assert stopped.value.code == 2
    assert "--eval-dir" in capsys.readouterr().err


def test_keeping_the_multilingual_head_moves_only_its_benign_bias(tmp_path, monkeypatch):
    """``training.train --keep-multilingual``: the weights stay, the benign bias moves by
    the difference of the two thresholds' log-odds, and running it twice changes nothing."""
    import json
    import math

    import numpy as np

    from moderation.engine.text_classifier import (
        DEFAULT_HEAD_PATH,
        DEFAULT_MULTILINGUAL_HEAD_PATH,
        TextHead,
    )
    from training import train

    # The factor's own computation (the language sets through the encoder) is tested in
    # test_language.py; here it only records the allow it was asked for.
    monkeypatch.setattr(train, "calibration", lambda head, allow: {"allow": allow})
    shipped = TextHead.load(DEFAULT_MULTILINGUAL_HEAD_PATH)
    allow_now = TextHead.load(DEFAULT_HEAD_PATH).thresholds["unsafe"]["allow"]
    assert shipped.metadata["calibrated_allow"] == allow_now
    path = tmp_path / "multilingual.json"
    path.write_text(json.dumps(shipped.to_dict()), encoding="utf-8")

    def logit(p: float) -> float:
        return math.log(p / (1 - p))

    train.recalibrate_multilingual(0.99, str(path))
    moved = TextHead.load(path)
    np.testing.assert_array_equal(moved.weights, shipped.weights)
    np.testing.assert_array_equal(moved.bias[1:], shipped.bias[1:])
    assert moved.bias[0] == pytest.approx(
        shipped.bias[0] + logit(allow_now) - logit(0.99), abs=2e-6
    )
    assert moved.metadata["calibrated_allow"] == 0.99
    assert moved.metadata["trained_allow"] == shipped.metadata["trained_allow"]
    assert moved.metadata["other_languages"] == {"allow": 0.99}
    once = path.read_text(encoding="utf-8")
    train.recalibrate_multilingual(0.99, str(path))
    assert path.read_text(encoding="utf-8") == once
    train.recalibrate_multilingual(allow_now, str(path))
    back = TextHead.load(path)
    assert back.bias[0] == pytest.approx(shipped.bias[0], abs=2e-6)
