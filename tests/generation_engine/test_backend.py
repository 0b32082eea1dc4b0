from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable

import pytest
from PIL.Image import Image

from generation.engine.backend import (
    GenerationCanceled,
    ModelLoadError,
    ModelsConfigError,
    ModelSpec,
    PipelineCache,
    parse_models_config,
)


def png_sha256(images: list[Image]) -> list[str]:
    digests = []
    for img in images:
        out = io.BytesIO()
        img.save(out, format="PNG")
        digests.append(hashlib.sha256(out.getvalue()).hexdigest())
    return digests


def render(cache: PipelineCache, spec: ModelSpec, seed: int = 0, **kwargs: object) -> list[Image]:
    params: dict[str, object] = {
        "prompt": "a lighthouse at dusk",
        "negative_prompt": "blurry",
        "width": 64,
        "height": 64,
        "steps": 4,
        "guidance_scale": 7.5,
        "seed": seed,
        "num_images": 1,
    }
    params.update(kwargs)
    return cache.generate(spec, **params)  # type: ignore[arg-type]


def test_parse_models_config_reads_every_field() -> None:
    value = json.dumps(
        {
            "sd15": {"path": "/models/sd15", "label": "SD 1.5"},
            "photo": {
                "hub_id": "org/photo",
                "min_plan": "pro",
                "flags": ["photoreal_humans"],
                "allow_download": True,
            },
        }
    )
    models = parse_models_config(value)
    assert list(models) == ["sd15", "photo"]
    assert models["sd15"] == ModelSpec(
        id="sd15", source="/models/sd15", min_plan="premium", label="SD 1.5"
    )
    assert models["photo"].source == "org/photo"
    assert models["photo"].min_plan == "pro"
    assert models["photo"].is_photoreal_humans
    assert models["photo"].allow_download


def test_parse_models_config_blank_means_no_models() -> None:
    assert parse_models_config("  ") == {}


@pytest.mark.parametrize(
    "value",
    [
        "not json",
        "[]",
        '{"Bad Id": {"path": "/m"}}',
        '{"m": {"path": "/m", "hub_id": "o/m"}}',
        '{"m": {}}',
        '{"m": {"path": "/m", "flags": ["telepathy"]}}',
        '{"m": {"path": "/m", "min_pln": "pro"}}',
        '{"m": {"path": "/m", "allow_download": "yes"}}',
        '{"m": "/m"}',
    ],
)
def test_parse_models_config_rejects_malformed_values(value: str) -> None:
    with pytest.raises(ModelsConfigError):
        parse_models_config(value)


def test_same_seed_and_params_give_identical_png_bytes(
    pipeline_cache: PipelineCache, tiny_spec: ModelSpec
) -> None:
    first = png_sha256(render(pipeline_cache, tiny_spec, seed=1234))
    second = png_sha256(render(pipeline_cache, tiny_spec, seed=1234))
    assert first == second


def test_different_seed_gives_different_image(
    pipeline_cache: PipelineCache, tiny_spec: ModelSpec
) -> None:
    assert png_sha256(render(pipeline_cache, tiny_spec, seed=1)) != png_sha256(
        render(pipeline_cache, tiny_spec, seed=2)
    )


def test_num_images_and_size_are_honoured(
    pipeline_cache: PipelineCache, tiny_spec: ModelSpec
) -> None:
    images = render(pipeline_cache, tiny_spec, seed=3, width=64, height=128, num_images=2)
    assert [img.size for img in images] == [(64, 128), (64, 128)]
    assert len(set(png_sha256(images))) == 2


def test_progress_callback_sees_every_step(
    pipeline_cache: PipelineCache, tiny_spec: ModelSpec
) -> None:
    seen: list[tuple[int, int]] = []
    render(pipeline_cache, tiny_spec, seed=5, steps=5, on_step=lambda s, t: seen.append((s, t)))
    assert seen == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]


def test_cancellation_after_step_two_raises_and_stops_the_loop(
    pipeline_cache: PipelineCache, tiny_spec: ModelSpec
) -> None:
    seen: list[int] = []
    with pytest.raises(GenerationCanceled):
        render(
            pipeline_cache,
            tiny_spec,
            seed=6,
            steps=6,
            on_step=lambda step, total: seen.append(step),
            should_cancel=lambda: len(seen) >= 2,
        )
    assert seen == [1, 2]


def test_cancellation_before_start_raises_without_running(
    pipeline_cache: PipelineCache, tiny_spec: ModelSpec
) -> None:
    seen: list[int] = []
    with pytest.raises(GenerationCanceled):
        render(
            pipeline_cache,
            tiny_spec,
            seed=7,
            on_step=lambda step, total: seen.append(step),
            should_cancel=lambda: True,
        )
    assert seen == []


def test_pipeline_is_loaded_once_per_cache(
    pipeline_cache: PipelineCache, tiny_spec: ModelSpec
) -> None:
    assert pipeline_cache.get(tiny_spec) is pipeline_cache.get(tiny_spec)


def test_a_canceled_run_leaves_the_pipeline_usable(
    pipeline_cache: PipelineCache, tiny_spec: ModelSpec
) -> None:
    with pytest.raises(GenerationCanceled):
        render(pipeline_cache, tiny_spec, seed=8, should_cancel=_cancel_after_first_poll())
    assert png_sha256(render(pipeline_cache, tiny_spec, seed=8)) == png_sha256(
        render(pipeline_cache, tiny_spec, seed=8)
    )


def _cancel_after_first_poll() -> Callable[[], bool]:
    polls = iter([False, True])
    return lambda: next(polls, True)


@pytest.mark.parametrize(
    "kwargs",
    [{"width": 60}, {"height": 0}, {"steps": 0}, {"num_images": 0}, {"seed": -1}],
)
def test_unrenderable_parameters_raise_value_error(
    pipeline_cache: PipelineCache, tiny_spec: ModelSpec, kwargs: dict[str, int]
) -> None:
    params = {"seed": 1, **kwargs}
    with pytest.raises(ValueError):
        render(pipeline_cache, tiny_spec, **params)


def test_missing_local_model_fails_without_downloading(pipeline_cache: PipelineCache) -> None:
    spec = ModelSpec(id="absent", source="org/not-a-local-model")
    with pytest.raises(ModelLoadError):
        pipeline_cache.get(spec)
    assert "absent" not in pipeline_cache.loaded_model_ids()
