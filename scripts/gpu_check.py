"""Check the CUDA path of the generation backend on a machine with a GPU.

    python scripts/gpu_check.py [--model DIR]

Builds the tiny TEST model (its images are noise) unless ``--model`` names a real one,
then loads it through ``PipelineCache`` (CUDA and fp16 when available) and checks:
the pipeline sits on the GPU in fp16, the same seed renders identical pixels twice, a
different seed differs, progress reports every step, and a cancel between steps stops
the run. Prints one JSON line with the findings and timings; exits 1 on a failed check.
Needs torch with CUDA, diffusers and transformers; no Django.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="")
    parser.add_argument("--side", type=int, default=512)
    parser.add_argument("--steps", type=int, default=25)
    args = parser.parse_args()

    import torch

    from generation.engine.backend import GenerationCanceled, ModelSpec, PipelineCache
    from generation.engine.tiny_model import build_tiny_pipeline

    model_dir = Path(args.model) if args.model else Path(tempfile.mkdtemp()) / "tiny-sd"
    if not args.model:
        build_tiny_pipeline(model_dir)
    spec = ModelSpec(id="check", source=str(model_dir), flags=frozenset({"test_model"}))
    cache = PipelineCache(num_threads=1)
    report: dict[str, object] = {"cuda": torch.cuda.is_available()}
    if torch.cuda.is_available():
        report["device_name"] = torch.cuda.get_device_name(0)
    started = time.perf_counter()
    pipe = cache.get(spec)
    report["load_s"] = round(time.perf_counter() - started, 2)
    report["pipeline_device"] = str(pipe.device)
    report["unet_dtype"] = str(pipe.unet.dtype)

    def render(seed: int) -> tuple[str, float, list[int]]:
        steps: list[int] = []
        began = time.perf_counter()
        [image] = cache.generate(
            spec, "a lighthouse", width=args.side, height=args.side, steps=args.steps,
            seed=seed, on_step=lambda step, total: steps.append(step),
        )  # fmt: skip
        elapsed = time.perf_counter() - began
        return hashlib.sha256(image.convert("RGB").tobytes()).hexdigest(), elapsed, steps

    render(0)  # warm-up: kernels and allocator
    first, first_s, steps = render(7)
    second, second_s, _ = render(7)
    other, _, _ = render(8)
    report[f"generate_{args.side}px_{args.steps}steps_s"] = round(min(first_s, second_s), 3)
    checks = {
        "on_gpu_fp16": (not torch.cuda.is_available())
        or (pipe.device.type == "cuda" and pipe.unet.dtype == torch.float16),
        "same_seed_same_pixels": first == second,
        "other_seed_differs": first != other,
        "progress_every_step": steps == list(range(1, args.steps + 1)),
    }
    seen: list[int] = []
    try:
        cache.generate(
            spec, "a lighthouse", width=args.side, height=args.side, steps=args.steps, seed=1,
            on_step=lambda step, total: seen.append(step), should_cancel=lambda: len(seen) >= 2,
        )  # fmt: skip
        checks["cancel_between_steps"] = False
    except GenerationCanceled:
        checks["cancel_between_steps"] = seen[-1] == 2
    report["checks"] = checks
    print(json.dumps(report))
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
