"""The configured diffusion models, and which of them a plan may use."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings

from billing.plans import plan_ranks
from generation.engine.backend import ModelSpec, parse_models_config

if TYPE_CHECKING:
    from billing.entitlements import Entitlements

TEST_MODEL_ID = "tiny-test"


def test_model_dir() -> Path:
    return Path(settings.IMAGEGATE_MODEL_DIR) / "tiny-sd"


@cache
def _configured(value: str, model_dir: str) -> dict[str, ModelSpec]:
    models = parse_models_config(value)
    if models:
        return models
    # No model configured: the tiny random-weight test model (its images are noise).
    return {
        TEST_MODEL_ID: ModelSpec(
            id=TEST_MODEL_ID,
            source=str(Path(model_dir) / "tiny-sd"),
            min_plan="premium",
            label="Tiny test model (noise; for development)",
            flags=frozenset({"test_model"}),
        )
    }


def all_models() -> dict[str, ModelSpec]:
    """Every configured model, keyed by id, in configuration order."""
    return _configured(settings.IMAGEGATE_MODELS, str(settings.IMAGEGATE_MODEL_DIR))


def model_features(spec: ModelSpec) -> frozenset[str]:
    """Features a model needs from the plan and the region."""
    return frozenset(flag for flag in spec.flags if flag != "test_model")


def model_allowed(
    spec: ModelSpec, entitlements: Entitlements, ranks: Mapping[str, int] | None = None
) -> bool:
    """Whether the plan ranks at least as high as the model's ``min_plan`` (a
    ``billing.Plan`` code, ranked by ``billing.plans``) and has the features it needs.

    A ``min_plan`` that names no plan opens the model to nobody; the system check
    ``generation.E001`` (``generation/checks.py``) refuses to start with one.
    """
    rank_needed = (plan_ranks() if ranks is None else ranks).get(spec.min_plan)
    if rank_needed is None:
        return False
    return entitlements.plan_rank >= rank_needed and model_features(spec) <= entitlements.features


def models_for(entitlements: Entitlements) -> list[ModelSpec]:
    ranks = plan_ranks()
    return [spec for spec in all_models().values() if model_allowed(spec, entitlements, ranks)]


def default_model_id() -> str:
    return next(iter(all_models()))
