"""Images per second with batching off and on, and the platform's share of the time.

    python -m benchmarks.gpu [--jobs 8] [--batch 4] [--side 256] [--steps 4] [--no-write]

Runs the first configured model (the tiny test model unless ``IMAGEGATE_MODELS`` names
a real one) on CUDA when available, else on CPU with ``IMAGEGATE_TORCH_THREADS``
threads. Off: one pipeline call per job. On: ``generation.engine.backend.generate_batch``
over groups of ``--batch`` compatible jobs, each with its own seed. The platform's
overhead per image is the provenance step (watermark + metadata) that every delivered
image passes, as a share of the generation time per image; the queue wait is measured by
``make bench``. Writes the "GPU batching" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import write_section  # noqa: E402

BEGIN, END = "<!-- benchmarks:gpu:begin -->", "<!-- benchmarks:gpu:end -->"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--side", type=int, default=256)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imagegate.settings.base")
    import django

    django.setup()
    import torch
    from django.conf import settings

    from generation.catalog import all_models
    from generation.engine.backend import BatchItem, PipelineCache, generate_batch
    from generation.engine.provenance import apply_provenance

    cache = PipelineCache(num_threads=settings.IMAGEGATE_TORCH_THREADS)
    spec = next(iter(all_models().values()))
    cache.get(spec)
    shape = {"width": args.side, "height": args.side, "steps": args.steps, "guidance_scale": 7.5}
    prompts = [f"a lighthouse at dawn, study {i}" for i in range(args.jobs)]
    cache.generate(spec, prompts[0], seed=0, **{**shape, "steps": 1})  # warm-up

    start = time.perf_counter()
    singles = [cache.generate(spec, p, seed=i, **shape)[0] for i, p in enumerate(prompts)]
    off_s = time.perf_counter() - start

    start = time.perf_counter()
    for first in range(0, args.jobs, args.batch):
        group = [
            BatchItem(prompt=p, seed=first + i)
            for i, p in enumerate(prompts[first : first + args.batch])
        ]
        generate_batch(cache, spec, group, **shape)
    on_s = time.perf_counter() - start

    start = time.perf_counter()
    for image in singles[:4]:
        apply_provenance(
            image,
            image_id=uuid.uuid4(),
            generation_id=uuid.uuid4(),
            model_id=spec.id,
            no_distribution=False,
        )
    provenance_s = (time.perf_counter() - start) / min(4, len(singles))

    device = (
        f"CUDA {torch.cuda.get_device_name(0)}"
        if torch.cuda.is_available()
        else f"CPU ({os.cpu_count()} cores, torch threads = {settings.IMAGEGATE_TORCH_THREADS})"
    )
    per_image = off_s / args.jobs
    section = "\n".join(
        [
            BEGIN,
            "## GPU batching",
            "",
            f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC with "
            f"`python -m benchmarks.gpu` on {device}, {platform.machine()}, "
            f"torch {torch.__version__}; model `{spec.id}`; "
            f"{args.jobs} jobs of {args.side}×{args.side}, {args.steps} steps, one image each.",
            "",
            "| what | value |",
            "|---|---|",
            f"| batching off (one call per job) | {args.jobs / off_s:.2f} images/s |",
            f"| batching on (batch size {args.batch}, per-job seeds) | "
            f"{args.jobs / on_s:.2f} images/s ({off_s / on_s:.2f}×) |",
            f"| provenance per image (watermark + metadata) | {provenance_s * 1000:.0f} ms, "
            f"{100 * provenance_s / per_image:.0f}% of the generation time per image |",
            "",
            "The engine's batch call exists (`generate_batch`); the GPU worker does not batch "
            "queued jobs yet (its task is one job per call)."
            + (
                ""
                if torch.cuda.is_available()
                else " On a CPU the denoising is compute-bound, so batching gains little; "
                "what it is for, keeping a GPU busy, needs a GPU run."
            ),
            END,
        ]
    )
    print(section)
    if not args.no_write:
        write_section(BEGIN, END, section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
