"""Fixtures for the moderation engine tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from moderation.engine.text_classifier import DEFAULT_MODEL_DIR, MODEL_FILENAME, TextClassifier


@pytest.fixture(scope="session")
def model_dir() -> Path:
    """The ONNX model, built once into var/models if missing (takes ~20 s)."""
    if not (DEFAULT_MODEL_DIR / MODEL_FILENAME).exists():
        from scripts.build_text_model import build_text_model

        build_text_model(DEFAULT_MODEL_DIR)
    return DEFAULT_MODEL_DIR


@pytest.fixture(scope="session")
def text_classifier(model_dir: Path) -> TextClassifier:
    return TextClassifier.load(path=model_dir)
