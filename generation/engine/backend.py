"""Diffusers backend: model configuration, the per-process pipeline cache, ``generate``.

Rules:
- Models come from ``IMAGEGATE_MODELS`` (see ``parse_models_config``); nothing else
  is ever loaded.
- Each model is loaded once per process with ``AutoPipelineForText2Image`` and kept;
  nothing is downloaded unless the model's config says ``allow_download``.
- CUDA with fp16 when ``torch.cuda.is_available()``; otherwise CPU with fp32.
- torch's intra-op thread count is pinned (default 1) before every generation: the
  same seed gives identical bytes only at the same thread count, and two torch
  processes competing for the same cores slow each other 20-50x.
- Progress is reported after every denoising step; cancellation is checked before
  the first step and after every step, and stops the loop through diffusers'
  documented ``pipe._interrupt`` flag; ``generate`` then raises ``GenerationCanceled``.

torch and diffusers are imported inside functions, so importing this module (for
``ModelSpec`` and ``parse_models_config``) is cheap and safe in the web process.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL.Image import Image

KNOWN_FLAGS = frozenset({"photoreal_humans", "test_model"})
"""Flags a model may carry. ``photoreal_humans`` gates the model to plans allowing it;
``test_model`` marks a random-weight model whose images are noise."""

DEFAULT_NUM_THREADS = 1


class ModelsConfigError(ValueError):
    """``IMAGEGATE_MODELS`` is malformed; the message names the model and the field."""


class ModelLoadError(RuntimeError):
    """The model could not be loaded (missing files, not downloadable, bad config).

    Permanent for this configuration: retrying the job will not help.
    """


class GenerationCanceled(Exception):
    """The job was canceled between denoising steps; no images were produced."""


@dataclass(frozen=True)
class ModelSpec:
    """One configured model.

    ``source`` is a local directory or a Hugging Face hub id; hub ids are only
    fetched when ``allow_download`` is true (otherwise the local cache must hold it).
    ``min_plan`` is the lowest plan code that may use the model.
    """

    id: str
    source: str
    min_plan: str = "premium"
    label: str = ""
    flags: frozenset[str] = field(default_factory=frozenset)
    allow_download: bool = False

    @property
    def is_photoreal_humans(self) -> bool:
        return "photoreal_humans" in self.flags

    @property
    def is_test_model(self) -> bool:
        return "test_model" in self.flags

    @property
    def display_name(self) -> str:
        return self.label or self.id


_MODEL_KEYS = {"path", "hub_id", "min_plan", "label", "flags", "allow_download"}


def parse_models_config(value: str) -> dict[str, ModelSpec]:
    """Parse ``IMAGEGATE_MODELS`` into ``{model_id: ModelSpec}``, keeping file order.

    Format: a JSON object keyed by model id (``[a-z0-9][a-z0-9._-]*``, at most 64
    characters)::

        {"sd15": {"path": "/models/sd15", "min_plan": "premium", "label": "SD 1.5"},
         "photo": {"hub_id": "org/model", "min_plan": "pro",
                   "flags": ["photoreal_humans"], "allow_download": false}}

    Each entry needs exactly one of ``path`` (local directory) or ``hub_id``;
    ``min_plan`` defaults to ``premium``; ``flags`` is a list of ``KNOWN_FLAGS``;
    unknown keys are rejected so typos fail loudly. An empty or blank value means no
    models. Raises ``ModelsConfigError``.
    """
    if not value.strip():
        return {}
    try:
        raw = json.loads(value)
    except json.JSONDecodeError as exc:
        raise ModelsConfigError(f"IMAGEGATE_MODELS is not valid JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise ModelsConfigError("IMAGEGATE_MODELS must be a JSON object keyed by model id")
    return {model_id: _parse_model(model_id, entry) for model_id, entry in raw.items()}


def _parse_model(model_id: str, entry: Any) -> ModelSpec:
    if not _is_valid_model_id(model_id):
        raise ModelsConfigError(f"model id {model_id!r} must match [a-z0-9][a-z0-9._-]*")
    if not isinstance(entry, dict):
        raise ModelsConfigError(f"model {model_id!r}: entry must be an object")
    unknown = set(entry) - _MODEL_KEYS
    if unknown:
        raise ModelsConfigError(f"model {model_id!r}: unknown keys {sorted(unknown)}")
    path, hub_id = entry.get("path"), entry.get("hub_id")
    if (path is None) == (hub_id is None):
        raise ModelsConfigError(f"model {model_id!r}: give exactly one of path or hub_id")
    source = path if path is not None else hub_id
    if not isinstance(source, str) or not source.strip():
        raise ModelsConfigError(f"model {model_id!r}: path/hub_id must be a non-empty string")
    min_plan = entry.get("min_plan", "premium")
    label = entry.get("label", "")
    flags = entry.get("flags", [])
    allow_download = entry.get("allow_download", False)
    if not isinstance(min_plan, str) or not min_plan:
        raise ModelsConfigError(f"model {model_id!r}: min_plan must be a plan code")
    if not isinstance(label, str):
        raise ModelsConfigError(f"model {model_id!r}: label must be a string")
    if not isinstance(flags, list) or not all(isinstance(f, str) for f in flags):
        raise ModelsConfigError(f"model {model_id!r}: flags must be a list of strings")
    unknown_flags = set(flags) - KNOWN_FLAGS
    if unknown_flags:
        raise ModelsConfigError(f"model {model_id!r}: unknown flags {sorted(unknown_flags)}")
    if not isinstance(allow_download, bool):
        raise ModelsConfigError(f"model {model_id!r}: allow_download must be true or false")
    return ModelSpec(
        id=model_id,
        source=source,
        min_plan=min_plan,
        label=label,
        flags=frozenset(flags),
        allow_download=allow_download,
    )


def _is_valid_model_id(model_id: str) -> bool:
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789._-")
    return (
        0 < len(model_id) <= 64
        and model_id[0] in "abcdefghijklmnopqrstuvwxyz0123456789"
        and set(model_id) <= allowed
    )


@dataclass(frozen=True)
class GenerationParams:
    """Validated parameters of one ``generate`` call (plan limits are checked upstream)."""

    prompt: str
    negative_prompt: str
    width: int
    height: int
    steps: int
    guidance_scale: float
    seed: int
    num_images: int

    def check(self) -> None:
        """Reject values the pipeline cannot render (not plan limits: services do those)."""
        if self.width <= 0 or self.height <= 0 or self.width % 8 or self.height % 8:
            raise ValueError("width and height must be positive multiples of 8")
        if self.steps < 1:
            raise ValueError("steps must be at least 1")
        if self.num_images < 1:
            raise ValueError("num_images must be at least 1")
        if not 0 <= self.seed < 2**63:
            raise ValueError("seed must be in [0, 2**63)")


def _no_progress(step: int, total: int) -> None:
    return None


def _never_cancel() -> bool:
    return False


class PipelineCache:
    """Loads each model once per process and runs generations on it.

    Not meant to be shared between threads running generations concurrently: a
    per-model lock serialises use of one pipeline (its interrupt flag is shared).
    """

    def __init__(self, *, num_threads: int = DEFAULT_NUM_THREADS) -> None:
        if num_threads < 1:
            raise ValueError("num_threads must be at least 1")
        self.num_threads = num_threads
        self._pipelines: dict[str, Any] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock_for(self, model_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(model_id, threading.Lock())

    def pin_threads(self) -> None:
        import torch

        if torch.get_num_threads() != self.num_threads:
            torch.set_num_threads(self.num_threads)

    def get(self, spec: ModelSpec) -> Any:
        """The loaded pipeline for ``spec``, loading it on first use."""
        pipe = self._pipelines.get(spec.id)
        if pipe is not None:
            return pipe
        with self._lock_for(spec.id):
            pipe = self._pipelines.get(spec.id)
            if pipe is None:
                pipe = load_pipeline(spec)
                self._pipelines[spec.id] = pipe
        return pipe

    def loaded_model_ids(self) -> list[str]:
        return list(self._pipelines)

    def generate(
        self,
        spec: ModelSpec,
        prompt: str,
        negative_prompt: str = "",
        width: int = 512,
        height: int = 512,
        steps: int = 25,
        guidance_scale: float = 7.5,
        seed: int = 0,
        num_images: int = 1,
        on_step: Callable[[int, int], None] = _no_progress,
        should_cancel: Callable[[], bool] = _never_cancel,
    ) -> list[Image]:
        """Render ``num_images`` images; deterministic for the same inputs and threads.

        ``on_step(step, total)`` is called after each denoising step with step in
        1..total. ``should_cancel()`` is polled before the first step and after each
        step; when it answers true the loop stops and ``GenerationCanceled`` is raised.
        """
        params = GenerationParams(
            prompt=prompt,
            negative_prompt=negative_prompt,
            width=width,
            height=height,
            steps=steps,
            guidance_scale=guidance_scale,
            seed=seed,
            num_images=num_images,
        )
        params.check()
        if should_cancel():
            raise GenerationCanceled()
        self.pin_threads()
        pipe = self.get(spec)
        with self._lock_for(spec.id):
            return _run_pipeline(pipe, params, on_step, should_cancel)


@dataclass(frozen=True)
class BatchItem:
    """One job of a batched call: its own prompt, seed and image count."""

    prompt: str
    seed: int
    negative_prompt: str = ""
    num_images: int = 1


def generate_batch(
    cache: PipelineCache,
    spec: ModelSpec,
    items: list[BatchItem],
    *,
    width: int,
    height: int,
    steps: int,
    guidance_scale: float,
    on_step: Callable[[int, int], None] = _no_progress,
    should_cancel: Callable[[], bool] = _never_cancel,
) -> list[list[Image]]:
    """Render compatible jobs (same model, size, steps and guidance) in one pipeline call.

    Each job keeps its own seed: every image gets a generator seeded with its job's
    seed, drawn in order, so a job's latents do not depend on its batch neighbours.
    Answers the images per job, in order. ``on_step`` and ``should_cancel`` apply to
    the whole call (the caller fans progress out to the jobs and stops the batch only
    when every job in it is canceled; a single canceled job's images are discarded).
    """
    import torch

    if not items:
        return []
    for item in items:
        GenerationParams(
            prompt=item.prompt,
            negative_prompt=item.negative_prompt,
            width=width,
            height=height,
            steps=steps,
            guidance_scale=guidance_scale,
            seed=item.seed,
            num_images=item.num_images,
        ).check()
    if should_cancel():
        raise GenerationCanceled()
    cache.pin_threads()
    pipe = cache.get(spec)
    prompts = [item.prompt for item in items for _ in range(item.num_images)]
    negatives = [item.negative_prompt for item in items for _ in range(item.num_images)]
    generators = []
    for item in items:
        generator = torch.Generator(device=pipe.device).manual_seed(item.seed)
        generators += [generator] * item.num_images
    canceled = False

    def step_end(
        pipeline: Any, index: int, timestep: Any, tensors: Mapping[str, Any]
    ) -> dict[str, Any]:
        nonlocal canceled
        on_step(index + 1, steps)
        if should_cancel():
            canceled = True
            pipeline._interrupt = True
        return {}

    with cache._lock_for(spec.id), torch.inference_mode():
        output = pipe(
            prompt=prompts,
            negative_prompt=negatives if any(negatives) else None,
            width=width,
            height=height,
            num_inference_steps=steps,
            guidance_scale=guidance_scale,
            generator=generators,
            callback_on_step_end=step_end,
            output_type="pil",
        )
    if canceled:
        raise GenerationCanceled()
    images = list(output.images)
    result, start = [], 0
    for item in items:
        result.append(images[start : start + item.num_images])
        start += item.num_images
    return result


def load_pipeline(spec: ModelSpec) -> Any:
    """Load ``spec`` with ``AutoPipelineForText2Image``: CUDA fp16 if available, else CPU fp32.

    Raises ``ModelLoadError`` when the files are missing (nothing is downloaded unless
    the spec allows it).
    """
    import torch
    from diffusers import AutoPipelineForText2Image

    use_cuda = torch.cuda.is_available()
    try:
        pipe = AutoPipelineForText2Image.from_pretrained(
            spec.source,
            dtype=torch.float16 if use_cuda else torch.float32,
            local_files_only=not spec.allow_download,
        )
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"model {spec.id!r} could not be loaded: {exc}") from exc
    pipe = pipe.to("cuda" if use_cuda else "cpu")
    pipe.set_progress_bar_config(disable=True)
    return pipe


def _run_pipeline(
    pipe: Any,
    params: GenerationParams,
    on_step: Callable[[int, int], None],
    should_cancel: Callable[[], bool],
) -> list[Image]:
    import torch

    canceled = False

    def step_end(
        pipeline: Any, index: int, timestep: Any, tensors: Mapping[str, Any]
    ) -> dict[str, Any]:
        nonlocal canceled
        on_step(index + 1, params.steps)
        if should_cancel():
            canceled = True
            # diffusers' documented way to stop the denoising loop between steps.
            pipeline._interrupt = True
        return {}

    generator = torch.Generator(device=pipe.device).manual_seed(params.seed)
    with torch.inference_mode():
        output = pipe(
            prompt=params.prompt,
            negative_prompt=params.negative_prompt or None,
            width=params.width,
            height=params.height,
            num_inference_steps=params.steps,
            guidance_scale=params.guidance_scale,
            num_images_per_prompt=params.num_images,
            generator=generator,
            callback_on_step_end=step_end,
            output_type="pil",
        )
    if canceled:
        raise GenerationCanceled()
    return list(output.images)


_default_cache: PipelineCache | None = None
_default_cache_guard = threading.Lock()


def default_cache(num_threads: int | None = None) -> PipelineCache:
    """The process-wide cache, created on first use (``num_threads`` applies then)."""
    global _default_cache
    with _default_cache_guard:
        if _default_cache is None:
            _default_cache = PipelineCache(num_threads=num_threads or DEFAULT_NUM_THREADS)
        return _default_cache


def generate(
    spec: ModelSpec,
    prompt: str,
    negative_prompt: str = "",
    width: int = 512,
    height: int = 512,
    steps: int = 25,
    guidance_scale: float = 7.5,
    seed: int = 0,
    num_images: int = 1,
    on_step: Callable[[int, int], None] = _no_progress,
    should_cancel: Callable[[], bool] = _never_cancel,
) -> list[Image]:
    """``PipelineCache.generate`` on the process-wide cache (see ``default_cache``)."""
    return default_cache().generate(
        spec,
        prompt,
        negative_prompt,
        width,
        height,
        steps,
        guidance_scale,
        seed,
        num_images,
        on_step,
        should_cancel,
    )
