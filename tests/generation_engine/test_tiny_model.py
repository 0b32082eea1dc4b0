from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from generation.engine.tiny_model import build_tiny_pipeline, is_tiny_pipeline


def tree_digest(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_tiny_model_is_saved_as_a_test_model_without_safety_checker(tiny_model_dir: Path) -> None:
    assert is_tiny_pipeline(tiny_model_dir)
    index = json.loads((tiny_model_dir / "model_index.json").read_text())
    assert index["_class_name"] == "StableDiffusionPipeline"
    assert index["safety_checker"] == [None, None]
    assert index["requires_safety_checker"] is False
    readme = (tiny_model_dir / "README.txt").read_text()
    assert "TEST MODEL" in readme
    assert "noise" in readme
    merges = (tiny_model_dir / "tokenizer" / "merges.txt").read_text()
    assert merges.startswith("#version: 0.2")


@pytest.mark.slow
def test_tiny_model_build_is_deterministic(tiny_model_dir: Path, tmp_path: Path) -> None:
    build_tiny_pipeline(tmp_path / "again")
    assert tree_digest(tmp_path / "again") == tree_digest(tiny_model_dir)
